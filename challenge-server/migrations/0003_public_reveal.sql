-- A revealed claim made public: the reveal's JSON (`reveal` of docs/API.md, "GET
-- /challenges/{id}/claims"), in the clear, written when the challenge closes (for the claims
-- revealed before) or with a reveal taken after the close, so that the claims pages are read
-- without the KEK. NULL while the challenge is open: until the close a reveal exists only
-- sealed, in `sealed_reveal`. A database from before this column is backfilled at start-up.
ALTER TABLE claims ADD COLUMN reveal_json TEXT;
