-- The reveal deadline (docs/API.md, "Claims"): reveals are taken until it, after the close only
-- for commits logged before the close; at it, every unrevealed commit becomes void (a logged
-- `claim-void` event, verdict `void`), so that every win becomes final. NULL for a challenge
-- created before it was published, which never voids. `voided_at`: when the voids were logged.
ALTER TABLE challenges ADD COLUMN reveal_deadline BIGINT;
ALTER TABLE challenges ADD COLUMN voided_at BIGINT;
