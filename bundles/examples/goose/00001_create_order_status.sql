-- +goose Up
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

-- +goose Down
DROP TYPE order_status;
