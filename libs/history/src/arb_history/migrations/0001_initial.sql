-- The trade history: every opportunity, every execution result with its orders (legs),
-- every exposure change, and entries that did not decode. Each row carries the stream entry
-- it came from and the whole message as JSON (fields added to a message later are kept).
-- Money and quantities are exact decimals ({decimal}); times are integer nanoseconds.

CREATE TABLE opportunities (
    id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    buy_venue TEXT NOT NULL,
    sell_venue TEXT NOT NULL,
    size {decimal} NOT NULL,
    buy_price {decimal} NOT NULL,
    sell_price {decimal} NOT NULL,
    net_profit {real} NOT NULL,
    edge_bps {real} NOT NULL,
    ts_detect {bigint} NOT NULL,
    expires_ns {bigint} NOT NULL,
    stream_id TEXT NOT NULL,
    recorded_ns {bigint} NOT NULL,
    message {json} NOT NULL
);
CREATE INDEX opportunities_ts_detect ON opportunities (ts_detect);

-- One row per ExecutionResult; result_id = opportunity id, status and completion time, so a
-- redelivered or re-sent entry maps to the row it already wrote.
CREATE TABLE results (
    result_id TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    buy_venue TEXT NOT NULL,
    sell_venue TEXT NOT NULL,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    reason TEXT NOT NULL,
    expected_pnl {real} NOT NULL,
    realised_pnl {decimal} NOT NULL,
    fees_quote {decimal} NOT NULL,
    unhedged_size {decimal} NOT NULL,
    unrealised_pnl {decimal} NOT NULL,
    mark_price {decimal} NOT NULL,
    executor TEXT NOT NULL,
    ts_detect {bigint} NOT NULL,
    ts_received {bigint} NOT NULL,
    ts_orders_sent {bigint} NOT NULL,
    ts_acks {bigint} NOT NULL,
    ts_done {bigint} NOT NULL,
    stream_id TEXT NOT NULL,
    recorded_ns {bigint} NOT NULL,
    message {json} NOT NULL
);
CREATE INDEX results_ts_done ON results (ts_done);
CREATE INDEX results_opportunity_id ON results (opportunity_id);

-- Every order of a result (buy, sell, hedge, unwind) with what the venue answered: its
-- fill (filled_size at avg_price) and fee. status 'none' = no answer was recorded.
CREATE TABLE orders (
    result_id TEXT NOT NULL REFERENCES results (result_id),
    leg INTEGER NOT NULL,
    role TEXT NOT NULL,
    venue TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    price {decimal} NOT NULL,
    size {decimal} NOT NULL,
    status TEXT NOT NULL,
    filled_size {decimal} NOT NULL,
    avg_price {decimal} NOT NULL,
    fee {decimal} NOT NULL,
    fee_asset TEXT NOT NULL,
    venue_order_id TEXT NOT NULL,
    error TEXT NOT NULL,
    reason TEXT NOT NULL,
    ts_sent {bigint} NOT NULL,
    ts_ack {bigint} NOT NULL,
    PRIMARY KEY (result_id, leg)
);
CREATE INDEX orders_client_order_id ON orders (client_order_id);
CREATE INDEX orders_venue ON orders (venue);

CREATE VIEW fills AS
    SELECT result_id, leg, role, venue, symbol, side, client_order_id, filled_size, avg_price,
           fee, fee_asset, ts_ack
    FROM orders WHERE CAST(filled_size AS {real}) > 0;

CREATE VIEW hedges AS
    SELECT * FROM orders WHERE role IN ('hedge', 'unwind');

-- Every ExposureEvent; event_key = exposure id, kind, time and size.
CREATE TABLE exposure_events (
    event_key TEXT PRIMARY KEY,
    exposure_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    asset TEXT NOT NULL,
    kind TEXT NOT NULL,
    size {decimal} NOT NULL,
    quote_value {decimal} NOT NULL,
    mark_price {decimal} NOT NULL,
    opportunity_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    ts {bigint} NOT NULL,
    stream_id TEXT NOT NULL,
    recorded_ns {bigint} NOT NULL,
    message {json} NOT NULL
);
CREATE INDEX exposure_events_exposure_id ON exposure_events (exposure_id, ts);
CREATE INDEX exposure_events_opportunity_id ON exposure_events (opportunity_id);

-- The latest state of each exposure (the newest event wins); closed_ts 0 while open.
CREATE TABLE exposures (
    exposure_id TEXT PRIMARY KEY,
    venue TEXT NOT NULL,
    asset TEXT NOT NULL,
    kind TEXT NOT NULL,
    size {decimal} NOT NULL,
    quote_value {decimal} NOT NULL,
    mark_price {decimal} NOT NULL,
    opportunity_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    opened_ts {bigint} NOT NULL,
    updated_ts {bigint} NOT NULL,
    closed_ts {bigint} NOT NULL
);

-- Stream entries that did not decode: kept (not retried forever, not lost).
CREATE TABLE malformed_entries (
    stream TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    error TEXT NOT NULL,
    payload_hex TEXT NOT NULL,
    recorded_ns {bigint} NOT NULL,
    PRIMARY KEY (stream, stream_id)
);
