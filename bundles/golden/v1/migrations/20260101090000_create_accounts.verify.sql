-- Fails the migration if the table did not come out as expected.
SELECT 1 / (SELECT count(*)::int FROM information_schema.columns
            WHERE table_name = 'accounts' AND column_name = 'email');
