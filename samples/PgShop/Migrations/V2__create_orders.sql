CREATE TYPE order_status AS ENUM ('open', 'paid', 'shipped');

CREATE TABLE shop_order (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customer (id),
    status       order_status NOT NULL DEFAULT 'open',
    placed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_line (
    order_id     bigint NOT NULL REFERENCES shop_order (id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES product (id),
    quantity     integer NOT NULL CHECK (quantity > 0),
    unit_price   numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
