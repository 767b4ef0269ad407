--liquibase formatted sql

--changeset ana:customers-updated-at splitStatements:false
ALTER TABLE customers ADD COLUMN updated_at timestamptz;
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
/* liquibase rollback
DROP TRIGGER customers_touch ON customers;
DROP FUNCTION touch_updated_at();
ALTER TABLE customers DROP COLUMN updated_at;
*/
