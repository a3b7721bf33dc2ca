-- fixed-size embeddings (so that array_cosine_similarity applies), urgency and sentiment per
-- item. The column keeps its place and its rows: embeddings of another length (a model of
-- another dimension) become null. 128 is the default embedder.dim; a model of another
-- dimension re-types the column through warehouse.embeddings.ensure_embedding_dim.
alter table demand_items alter embedding type float[128]
    using (case when len(embedding) = 128 then embedding::float[128] end);
alter table demand_items add column if not exists urgent boolean;
alter table demand_items add column if not exists sentiment smallint;  -- -1, 0, 1
