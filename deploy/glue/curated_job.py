"""Glue PySpark job: builds the curated inventory tables from raw partitions.

Started by the integrator's curated trigger (src/catalog/glue-curated-trigger.ts) with:
  --partitions   JSON list of raw partition paths, e.g. ["dt=2026-11-21/hour=13"]
  --raw_table    raw table name (informational)
  --raw_path     s3://bucket/prefix/inventory_changes/
and, set on the job definition (default arguments):
  --curated_path    s3://bucket/prefix/curated/            where the curated tables go
  --reference_path  s3://bucket/prefix/reference/          orders/ and customers/ as Parquet
  --reference_database  optional: read <db>.orders and <db>.customers from the Glue catalog instead
  --sql_path        optional: s3:// or local path of curated.sql; default curated.sql shipped
                    next to the script with --extra-files

It runs deploy/glue/curated.sql, the same text DuckDB runs locally, split the same way
(split_statements here, splitCuratedSql in src/catalog/curated-sql.ts).

What it writes, per run:
  inventory_changes_curated  rebuilt for every day (dt) the partitions touch, from all raw hours of
                             those days, and written with dynamic partition overwrite: a day is
                             replaced whole, so reruns and late data never duplicate an event.
                             Duplicates of an event always share its event time, hence its day,
                             so deduplicating per day is deduplicating globally.
  inventory_daily            the same days, same overwrite.
  inventory_snapshot         recomputed from the whole curated table and replaced.
"""

import json
import re
import sys

MARKER = re.compile(r"^--\s*@table\s+([a-z_][a-z0-9_]*)\s*$")
PARTITIONED_BY = "dt"


def split_statements(text):
    """Returns [(table, select)] from the '-- @table <name>' sections of the curated SQL."""
    sections = []
    for line in text.splitlines():
        match = MARKER.match(line.strip())
        if match:
            sections.append((match.group(1), []))
        elif sections:
            sections[-1][1].append(line)
    statements = []
    for table, lines in sections:
        select = re.sub(r";\s*$", "", "\n".join(lines).strip()).strip()
        if not re.search(r"\bselect\b", select, re.IGNORECASE):
            raise ValueError("curated SQL has no SELECT for table %s" % table)
        statements.append((table, select))
    if not statements:
        raise ValueError('curated SQL has no "-- @table <name>" sections')
    return statements


def days_of(partitions):
    """The distinct dt values of raw partition paths such as dt=2026-11-21/hour=13."""
    days = set()
    for path in partitions:
        values = dict(seg.split("=", 1) for seg in path.strip("/").split("/") if "=" in seg)
        if "dt" not in values or not re.match(r"^\d{4}-\d{2}-\d{2}$", values["dt"]):
            raise ValueError("raw partition %r has no dt=YYYY-MM-DD" % path)
        days.add(values["dt"])
    return sorted(days)


def optional_args(argv, names):
    """Glue's getResolvedOptions fails on absent names; optional ones are read here."""
    found = {}
    for i, arg in enumerate(argv):
        for name in names:
            if arg == "--" + name and i + 1 < len(argv):
                found[name] = argv[i + 1]
            elif arg.startswith("--" + name + "="):
                found[name] = arg.split("=", 1)[1]
    return found


def read_text(spark, path):
    if path.startswith("s3://") or path.startswith("s3a://"):
        return "\n".join(row.value for row in spark.read.text(path).collect())
    with open(path, "r", encoding="utf-8") as handle:
        return handle.read()


def with_slash(path):
    return path if path.endswith("/") else path + "/"


def main():
    # Imported here so the module loads (and is tested) without Spark or the Glue libraries.
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "partitions", "raw_path", "curated_path"])
    extra = optional_args(sys.argv, ["reference_path", "reference_database", "sql_path"])
    partitions = json.loads(args["partitions"])
    if not isinstance(partitions, list) or not partitions:
        raise ValueError("--partitions must be a non-empty JSON list of partition paths")
    days = days_of(partitions)
    raw_path = with_slash(args["raw_path"])
    curated_path = with_slash(args["curated_path"])

    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.parquet.mergeSchema", "true")

    statements = split_statements(read_text(spark, extra.get("sql_path", "curated.sql")))

    # Raw rows of every hour of the touched days. recursiveFileLookup: the partition values are in
    # the files already, and skipping partition discovery avoids a second dt/hour column.
    day_paths = [raw_path + "dt=" + day + "/" for day in days]
    existing = [p for p in day_paths if path_exists(spark, p)]
    if not existing:
        raise ValueError("no raw data under %s for days %s" % (raw_path, ",".join(days)))
    raw = spark.read.option("recursiveFileLookup", "true").option("mergeSchema", "true").parquet(*existing)
    raw.createOrReplaceTempView("raw_inventory_changes")

    for name in ("orders", "customers"):
        if "reference_database" in extra:
            spark.table(extra["reference_database"] + "." + name).createOrReplaceTempView(name)
        elif "reference_path" in extra:
            spark.read.parquet(with_slash(extra["reference_path"]) + name + "/").createOrReplaceTempView(name)
        else:
            raise ValueError("set --reference_path or --reference_database for the orders and customers tables")

    curated_days = None
    for table, select in statements:
        target = curated_path + table + "/"
        if table == "inventory_snapshot":
            # The snapshot spans all days: read the whole curated table (just rewritten) back.
            spark.read.parquet(curated_path + "inventory_changes_curated/").createOrReplaceTempView("inventory_changes_curated")
        elif curated_days is not None:
            # Per-day tables see only the touched days, which they then overwrite.
            curated_days.createOrReplaceTempView("inventory_changes_curated")
        frame = spark.sql(select)
        if PARTITIONED_BY in frame.columns:
            frame = frame.cache()
            frame.write.mode("overwrite").partitionBy(PARTITIONED_BY).parquet(target)
        else:
            frame.write.mode("overwrite").parquet(target)
        frame.createOrReplaceTempView(table)
        if table == "inventory_changes_curated":
            curated_days = frame
        print("curated table %s written to %s (days %s)" % (table, target, ",".join(days)))

    job.commit()


def path_exists(spark, path):
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.exists(hadoop_path)


if __name__ == "__main__":
    main()
