--liquibase formatted sql

--changeset cy:customers-name-index runInTransaction:false
CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name);
--rollback DROP INDEX CONCURRENTLY customers_name_idx;

--changeset cy:raise-coffee-price endDelimiter:/
UPDATE products SET price_cents = price_cents + 10 WHERE sku = 'coffee'
/
--rollback UPDATE products SET price_cents = price_cents - 10 WHERE sku = 'coffee';

--changeset cy:customers-email-lowercase
ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email));
--rollback ALTER TABLE customers DROP CONSTRAINT customers_email_lower;
