DROP VIEW account_totals;
DROP FUNCTION account_total_cents(bigint);
