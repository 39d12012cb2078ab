-- materialized: incremental by kommunekode
-- Grain: one row per invoice or credit-note document whose own order number matches an order
-- (document_id), with the order it is matched to.
-- Implements METHODS 5 (e-handel match) and METHODS 7 (fakturamatch):
-- * same municipality, equal normalised order number, and a supplier CVR in common between the document's
--   and the order's CVR lists; an order naming no CVR at all matches on the number within the municipality;
-- * the CVR rule is a join of (kommunekode, order_number_norm, cvr) pairs: the short CVR lists are unnested
--   on both sides, so the join never multiplies lists against each other;
-- * when several orders match, the document is matched to the one whose total is closest to the document's
--   total (ties: the later order date, then the order key: kommunekode, supplier CVR with no CVR first,
--   order number, order date); fritekst and fakturamatch are those of that order;
-- * fakturamatch: |document total - order total| <= max(1.00 kr., 1% of |order total|), boundary included,
--   both totals over all lines (goods or not).
with documents as (
    select document_id, kommunekode, document_type, document_number, order_number_norm, supplier_cvrs, total_kr
    from intermediate.int_invoice_documents
    where order_number_norm is not null and in_changed_units(kommunekode)
),

orders as (
    select order_id, kommunekode, supplier_cvr, order_number_norm, supplier_cvrs, order_date, total_kr, is_fritekst
    from intermediate.int_orders
    where in_changed_units(kommunekode)
),

document_cvrs as (
    select document_id, kommunekode, order_number_norm, unnest(supplier_cvrs) as cvr
    from documents
),

order_cvrs as (
    select order_id, kommunekode, order_number_norm, unnest(supplier_cvrs) as cvr
    from orders
),

cvr_matches as (
    select distinct document_cvrs.document_id, order_cvrs.order_id
    from document_cvrs
    inner join order_cvrs
        on document_cvrs.kommunekode = order_cvrs.kommunekode
        and document_cvrs.order_number_norm = order_cvrs.order_number_norm
        and document_cvrs.cvr = order_cvrs.cvr
),

orders_without_cvr as (
    select order_id, kommunekode, order_number_norm
    from orders
    where len(supplier_cvrs) = 0
),

number_matches as (
    select documents.document_id, orders_without_cvr.order_id
    from documents
    inner join orders_without_cvr
        on documents.kommunekode = orders_without_cvr.kommunekode
        and documents.order_number_norm = orders_without_cvr.order_number_norm
),

candidates as (
    select document_id, order_id from cvr_matches
    union
    select document_id, order_id from number_matches
),

scored as (
    select
        candidates.document_id,
        candidates.order_id,
        documents.document_type,
        documents.document_number,
        documents.kommunekode as document_kommunekode,
        documents.supplier_cvrs as document_supplier_cvrs,
        documents.total_kr as document_total_kr,
        orders.total_kr as order_total_kr,
        abs(documents.total_kr - orders.total_kr) as difference_kr,
        orders.order_date,
        orders.kommunekode,
        orders.supplier_cvr,
        orders.order_number_norm,
        orders.is_fritekst
    from candidates
    inner join documents on candidates.document_id = documents.document_id
    inner join orders
        on candidates.order_id = orders.order_id
        and documents.kommunekode = orders.kommunekode  -- always: said so that a municipality is computed alone
),

chosen as (
    select
        *,
        count(*) over (partition by document_kommunekode, document_id) as candidate_orders
    from scored
    qualify row_number() over (
        partition by document_kommunekode, document_id
        order by
            difference_kr,
            order_date desc,
            kommunekode,
            supplier_cvr nulls first,
            order_number_norm,
            order_date
    ) = 1
),

final as (
    select
        document_id,
        order_id as matched_order_id,
        candidate_orders,
        document_total_kr,
        order_total_kr,
        cast(difference_kr as decimal(18, 2)) as difference_kr,
        is_fritekst,
        difference_kr <= greatest(1.00, abs(order_total_kr) * 0.01) as is_fakturamatch,
        -- the matched document's identity, for the credit notes that credit it (int_invoice_credit_matches)
        document_kommunekode as kommunekode,
        document_type,
        document_number,
        document_supplier_cvrs as supplier_cvrs
    from chosen
)

select * from final
