-- materialized: view
-- Grain: one row per copy of an order document, i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x delivered file (file_id).
-- The copies of int_order_file_copies (computed once per content) numbered by their content.
-- copy_number: its content's file_key x 2^32 + its first record_number in the content (record
-- numbers are unique within a file): unique per copy, and the same for as long as the content is loaded, so a
-- municipality's numbers do not move when another's deliveries change (the tables incremental by kommunekode).
with final as (
    select
        copies.file_key * 4294967296 + copies.first_record as copy_number,
        copies.* exclude (file_key, first_record)
    from intermediate.int_order_file_copies as copies
)

select * from final
