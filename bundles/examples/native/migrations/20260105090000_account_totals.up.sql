CREATE FUNCTION account_total_cents(p_account bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(total_cents), 0) FROM orders WHERE account_id = p_account;
$$;

CREATE VIEW account_totals AS
SELECT a.id, a.email, account_total_cents(a.id) AS total_cents
FROM accounts a;
