"""Ingest layer: DIR/raw -> schema `ingest`, incrementally (a content already loaded is not read again)."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from assets import loading
from pipelines.resources import Warehouse

INGEST_TABLES = {
    "deliveries": "every file now in DIR/raw: path, municipality folder, size, mtime and content hash",
    "files": "every content loaded or refused, with its dialect, rows read, and the reason when refused",
    "invoice_rows": "invoice and credit-note lines, typed, with the reason when a line cannot be used (narrow)",
    "order_rows": "order lines, typed, with the reason when a line cannot be used (narrow)",
    "invoice_lines": "view: ingest.invoice_rows named by their content's file_id and format, with the year",
    "order_lines": "view: ingest.order_rows named by their content's file_id and format, with the year",
    "rejected_records": "CSV records that could not be split into the header's columns, with their line",
    "record_lines": "the line in its file on which each CSV row with a reject reason starts",
}


@multi_asset(
    specs=[
        AssetSpec(
            AssetKey(["ingest", table]),
            group_name="ingest",
            kinds={"duckdb"},
            description=description,
            deps=[AssetKey(["reference", "kommuner"])],
        )
        for table, description in INGEST_TABLES.items()
    ],
    pool="duckdb",
)
def ingest_raw(context: AssetExecutionContext, warehouse: Warehouse):
    from assets.quality import gx

    paths = warehouse.paths
    deliveries = loading.list_deliveries(paths.raw)
    # the state of raw/ this run loads, kept as metadata for the raw-folder sensor
    fingerprint = loading.raw_fingerprint(paths.raw, deliveries)
    with warehouse.connect() as con:
        scanned = loading.scan_deliveries(con, paths, deliveries)
        # The file and mart checks need GX later in the run. Imported while DuckDB loads the files (the GIL
        # released), not during the scan: listing a national year's 45,000 files is Python, and the import
        # beside it made a monthly run's scan 2.7-4.0 s instead of 1.4 s.
        gx.warm_up()
        forgotten = loading.forget_withdrawn_files(con)
        dated_ahead = loading.forget_files_dated_ahead(con)
        loaded = loading.load_new_files(con, paths, log=context.log.info)
        counts = {
            table: int(con.execute(f"select count(*) from ingest.{table}").fetchone()[0])  # type: ignore[index]
            for table in INGEST_TABLES
        }
        refused = con.execute(
            "select source_file, reason from ingest.files where status = 'rejected' order by source_file limit 20"
        ).fetchall()
    summary = {**scanned, **loaded, "withdrawn_files": forgotten, "reread_files": dated_ahead}
    context.log.info(
        f"raw/: {summary['files']:,} files ({summary['hashed']:,} hashed); loaded {summary['csv_files']:,} CSV and "
        f"{summary['xml_files']:,} XML files, refused {summary['rejected_files']:,}; "
        f"{summary['withdrawn_files']:,} withdrawn files forgotten"
        + (
            f"; {dated_ahead:,} read again (a date refused as in the future is now past)"
            if dated_ahead
            else ""
        )
    )
    for source_file, reason in refused:
        context.log.warning(f"refused {source_file}: {reason}")
    for table in INGEST_TABLES:
        metadata: dict = {"rows": counts[table]}
        if table == "deliveries":
            metadata.update({k: int(v) for k, v in summary.items()})
            metadata[loading.RAW_FINGERPRINT] = fingerprint
        yield MaterializeResult(asset_key=AssetKey(["ingest", table]), metadata=metadata)
