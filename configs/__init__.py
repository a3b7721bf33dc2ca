"""The packaged defaults: the demo district's config folder (see minsheng.settings)."""
