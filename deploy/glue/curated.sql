-- The curated layer of the inventory lake: ONE SQL text, run unchanged by DuckDB on the local lake
-- (src/catalog/curated-sql.ts) and by Spark SQL in the Glue job (deploy/glue/curated_job.py).
--
-- Inputs: three views each runner defines before running this text.
--   raw_inventory_changes  the raw table (RAW_COLUMNS in src/core/columns.ts), duplicates and all
--   orders                 order_id, customer_id, channel, status, total_amount, placed_at
--   customers              customer_id, name, tier, country
--
-- Layout: each "-- @table <name>" line starts one SELECT that produces the table of that name; a
-- later SELECT may read an earlier table by its name. Runners split on those markers (and drop a
-- trailing semicolon), so keep every other comment free of the marker.
--
-- Dialect: only what both Spark SQL 3.x and DuckDB accept, so no QUALIFY, no "::" casts, no
-- double-quoted or backticked identifiers, no FILTER clauses, no engine-specific functions.
-- Sums are cast to BIGINT because DuckDB widens SUM(BIGINT) to HUGEINT, which Parquet lacks.
-- Days are UTC: Spark runs with spark.sql.session.timeZone=UTC, DuckDB with TimeZone=UTC.

-- @table inventory_changes_curated
-- Exactly one row per event_id (the raw layer is at least once: a retried batch or a replay
-- writes the same event again). Reference rows are deduplicated too, so a join can never multiply
-- an event; the joins are LEFT joins, so an event with no order or customer is kept. An order's
-- customer stands in when the event carries only an order id.
SELECT
  c.event_id,
  c.source,
  c.stream,
  c.shard,
  c.sequence,
  c.event_type,
  c.sku,
  c.warehouse_id,
  c.quantity_before,
  c.quantity_after,
  c.delta,
  c.order_id,
  COALESCE(c.customer_id, o.customer_id) AS customer_id,
  c.event_time,
  c.ingest_time,
  c.enrichment_status,
  o.channel AS order_channel,
  o.status AS order_status,
  o.total_amount AS order_total_amount,
  o.placed_at AS order_placed_at,
  cu.name AS customer_name,
  cu.tier AS customer_tier,
  cu.country AS customer_country,
  CAST(c.event_time AS DATE) AS dt
FROM (
  SELECT
    r.event_id, r.source, r.stream, r.shard, r.sequence, r.event_type, r.sku, r.warehouse_id,
    r.quantity_before, r.quantity_after, r.delta, r.order_id, r.customer_id, r.event_time,
    r.ingest_time, r.enrichment_status,
    ROW_NUMBER() OVER (PARTITION BY r.event_id ORDER BY r.ingest_time ASC) AS copy_rank
  FROM raw_inventory_changes r
) c
LEFT JOIN (
  SELECT od.order_id, od.customer_id, od.channel, od.status, od.total_amount, od.placed_at
  FROM (
    SELECT
      o0.order_id, o0.customer_id, o0.channel, o0.status, o0.total_amount, o0.placed_at,
      ROW_NUMBER() OVER (PARTITION BY o0.order_id ORDER BY o0.placed_at DESC, o0.status ASC) AS order_rank
    FROM orders o0
  ) od
  WHERE od.order_rank = 1
) o ON o.order_id = c.order_id
LEFT JOIN (
  SELECT cd.customer_id, cd.name, cd.tier, cd.country
  FROM (
    SELECT
      c0.customer_id, c0.name, c0.tier, c0.country,
      ROW_NUMBER() OVER (PARTITION BY c0.customer_id ORDER BY c0.name ASC) AS customer_rank
    FROM customers c0
  ) cd
  WHERE cd.customer_rank = 1
) cu ON cu.customer_id = COALESCE(c.customer_id, o.customer_id)
WHERE c.copy_rank = 1;

-- @table inventory_snapshot
-- The latest known quantity per SKU and warehouse: quantity_after of the last change by event
-- time (ties broken by ingest time, then event id, so every engine picks the same row). A NULL
-- quantity means the last change removed the item (a DynamoDB REMOVE).
SELECT
  s.sku,
  s.warehouse_id,
  s.quantity_after AS quantity,
  s.event_time AS as_of,
  s.event_type AS last_event_type,
  s.event_id AS last_event_id
FROM (
  SELECT
    cur.sku, cur.warehouse_id, cur.quantity_after, cur.event_time, cur.event_type, cur.event_id,
    ROW_NUMBER() OVER (
      PARTITION BY cur.sku, cur.warehouse_id
      ORDER BY cur.event_time DESC, cur.ingest_time DESC, cur.event_id DESC
    ) AS recency
  FROM inventory_changes_curated cur
) s
WHERE s.recency = 1;

-- @table inventory_daily
-- Per UTC day, warehouse and SKU. units_sold counts stock that left through sales (a sale's delta
-- is negative), units_restocked and units_returned stock that came back in; net_change sums every
-- delta, adjustments and untyped DynamoDB changes included.
SELECT
  d.dt,
  d.warehouse_id,
  d.sku,
  CAST(SUM(CASE WHEN d.event_type = 'sale' THEN -d.delta ELSE 0 END) AS BIGINT) AS units_sold,
  CAST(SUM(CASE WHEN d.event_type = 'restock' THEN d.delta ELSE 0 END) AS BIGINT) AS units_restocked,
  CAST(SUM(CASE WHEN d.event_type = 'return' THEN d.delta ELSE 0 END) AS BIGINT) AS units_returned,
  CAST(SUM(d.delta) AS BIGINT) AS net_change,
  COUNT(DISTINCT d.customer_id) AS distinct_customers,
  COUNT(*) AS events
FROM inventory_changes_curated d
GROUP BY d.dt, d.warehouse_id, d.sku;
