-- Grain: one row per (year, kommunekode) with anything delivered for the year, for the "Datakvalitet" page.
-- year is the year of the rows' own dates; rows with no usable date and files refused whole have year null.
-- files: delivered files with rows of the year (invoice_files, order_files); files_refused: refused whole.
-- rows: lines read (accepted + quarantined + duplicates); quarantined_rows and quarantine_reasons (JSON text:
-- reason, its quoted values replaced by '…', -> rows); unclassified_spend_kr / _lines (METHODS 2.3);
-- unknown_suppliers: CVRs of accepted invoice lines missing from the supplier register (and their kr.);
-- invoices_without_order_number and invoices_order_not_found: invoices (not credit notes) with goods lines
-- that are not e-handel, without an order number or with one that matches no order.
with kommuner as (
    select kommunekode, kommunenavn from reference.kommuner
),

-- the rows read per file, year and municipality (a file's rows are counted once per year they are dated in)
delivered as (
    select file_id, kommunekode, year, 'invoices' as kind, count(*) as rows_read, count(reject_reason) as bad_rows
    from ingest.invoice_lines
    group by file_id, kommunekode, year
    union all
    select file_id, kommunekode, year, 'orders', count(*), count(reject_reason)
    from ingest.order_lines
    group by file_id, kommunekode, year
),

refused_files as (
    select file_id, folder_kommunekode as kommunekode, cast(null as integer) as year, kind
    from ingest.files where status = 'rejected' and folder_kommunekode is not null
),

files as (
    select year, kommunekode,
           count(file_id) filter (where kind = 'invoices') as invoice_files,
           count(file_id) filter (where kind = 'orders') as order_files,
           cast(sum(rows_read) as bigint) as rows_read,
           cast(sum(bad_rows) as bigint) as bad_rows
    from delivered group by year, kommunekode
),

refused as (
    select year, kommunekode, count(*) as files_refused from refused_files group by year, kommunekode
),

quarantine as (
    select year, kommunekode,
           count(*) as quarantined_rows,
           regexp_replace(coalesce(reason, ''), '''[^'']*''', '''…''', 'g') as reason_kind
    from marts.mart_quarantine
    where line_number is not null or kind is not null
    group by year, kommunekode, reason_kind
),

quarantine_by_reason as (
    select year, kommunekode, sum(quarantined_rows) as quarantined_rows,
           to_json(map(list(reason_kind order by reason_kind), list(quarantined_rows order by reason_kind))) as quarantine_reasons
    from quarantine group by year, kommunekode
),

invoice_cells as (
    select * from intermediate.int_invoice_cells
),

unclassified as (
    select year, kommunekode, sum(unclassified_spend_kr) as unclassified_spend_kr,
           cast(sum(unclassified_lines) as bigint) as unclassified_lines
    from invoice_cells group by year, kommunekode
),

unknown_suppliers as (
    select year, kommunekode, count(distinct supplier_cvr) as unknown_suppliers,
           sum(total_kr) as unknown_supplier_spend_kr
    from invoice_cells
    where supplier_cvr not in (select cvr from reference.leverandoerer)
    group by year, kommunekode
),

unmatched as (
    select year, kommunekode,
           coalesce(cast(sum(documents) filter (where not has_order_number) as bigint), 0) as invoices_without_order_number,
           coalesce(cast(sum(documents) filter (where has_order_number) as bigint), 0) as invoices_order_not_found
    from invoice_cells
    where document_type = 'invoice' and is_purchase and not is_ehandel
    group by year, kommunekode
),

keys as (
    select year, kommunekode from files
    union select year, kommunekode from refused
    union select year, kommunekode from quarantine_by_reason
),

final as (
    select
        keys.year,
        keys.kommunekode,
        kommuner.kommunenavn,
        coalesce(files.invoice_files, 0) as invoice_files,
        coalesce(files.order_files, 0) as order_files,
        coalesce(refused.files_refused, 0) as files_refused,
        coalesce(files.rows_read, 0) as rows_read,
        cast(coalesce(quarantine_by_reason.quarantined_rows, 0) as bigint) as quarantined_rows,
        coalesce(cast(quarantine_by_reason.quarantine_reasons as varchar), '{}') as quarantine_reasons,
        cast(coalesce(unclassified.unclassified_spend_kr, 0) as decimal(18, 2)) as unclassified_spend_kr,
        coalesce(unclassified.unclassified_lines, 0) as unclassified_lines,
        coalesce(unknown_suppliers.unknown_suppliers, 0) as unknown_suppliers,
        cast(coalesce(unknown_suppliers.unknown_supplier_spend_kr, 0) as decimal(18, 2)) as unknown_supplier_spend_kr,
        coalesce(unmatched.invoices_without_order_number, 0) as invoices_without_order_number,
        coalesce(unmatched.invoices_order_not_found, 0) as invoices_order_not_found
    from keys
    left join kommuner on kommuner.kommunekode = keys.kommunekode
    left join files on files.year is not distinct from keys.year and files.kommunekode = keys.kommunekode
    left join refused on refused.year is not distinct from keys.year and refused.kommunekode = keys.kommunekode
    left join quarantine_by_reason on quarantine_by_reason.year is not distinct from keys.year
        and quarantine_by_reason.kommunekode = keys.kommunekode
    left join unclassified on unclassified.year = keys.year and unclassified.kommunekode = keys.kommunekode
    left join unknown_suppliers on unknown_suppliers.year = keys.year and unknown_suppliers.kommunekode = keys.kommunekode
    left join unmatched on unmatched.year = keys.year and unmatched.kommunekode = keys.kommunekode
    where keys.kommunekode <> ''
)

select * from final
