-- materialized: incremental by kommunekode
-- Grain: one row per copy (copy_number, as in int_order_copy_totals) whose order_hash is
-- shared with another copy: the copies of an order delivered more than once, and any two orders whose key
-- hashes collide in one municipality. Implements METHODS 1 for them, by the exact order key
-- (kommunekode, supplier_cvr, order_number_norm, order_date; a null CVR equals a null CVR): winning copy as for
-- invoices, CSV before XML, then the later delivery, then the later source_file, then file_id. order_id is
-- the lowest copy_number of the order's copies. Every copy not listed here is the only copy of its order.
with copies as (
    select * from intermediate.int_order_copy_totals
    where in_changed_units(kommunekode)
),

-- from the per-content table itself: the hashes need no copy numbers (half the time of reading the view)
shared_hashes as (
    select order_hash
    from intermediate.int_order_file_copies
    where in_changed_units(kommunekode)
    group by order_hash
    having count(*) > 1
),

-- the key begins with kommunekode, so a hash shared by two municipalities' keys only is a collision between them
shared_copies as materialized (
    select * from copies
    where order_hash in (select order_hash from shared_hashes)
    qualify count(*) over (partition by kommunekode, order_hash) > 1
),

-- the delivery of the files those copies came in
files as (
    select file_id, source_format, source_file, delivered_at
    from staging.stg_files
    where file_id in (select file_id from shared_copies)
),

final as (
    select
        shared_copies.copy_number,
        shared_copies.kommunekode,
        min(shared_copies.copy_number) over order_key as order_id,
        count(*) over order_key as copies_delivered,
        row_number() over copy_order = 1 as is_winning_copy,
        first_value(shared_copies.file_id) over copy_order as winning_file_id,
        first_value(files.source_file) over copy_order as winning_source_file
    from shared_copies
    inner join files on shared_copies.file_id = files.file_id
    window
        order_key as (
            partition by shared_copies.kommunekode, shared_copies.supplier_cvr, shared_copies.order_number_norm,
                shared_copies.order_date
        ),
        copy_order as (
            partition by shared_copies.kommunekode, shared_copies.supplier_cvr, shared_copies.order_number_norm,
                shared_copies.order_date
            order by
                case when files.source_format = 'csv' then 0 else 1 end,
                files.delivered_at desc nulls last,
                files.source_file desc,
                shared_copies.file_id
        )
)

select * from final
