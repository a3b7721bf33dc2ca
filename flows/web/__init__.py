"""The planners' workbench: a server-rendered web app over the planners' snapshot
(``minsheng web``). Every page reads through ``Warehouse.planner()``; only the review queue's
corrections (role ``data``) write, through ``warehouse.review``."""

from flows.web.app import create_app

__all__ = ["create_app"]
