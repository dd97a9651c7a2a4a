-- A challenge whose scheduled step failed stops its traffic (docs/API.md, "traffic-stopped"):
-- the reason, NULL while the traffic runs. The failure is logged as an event and shown by
-- /health; the scheduler still closes the challenge at its deadline.
ALTER TABLE challenges ADD COLUMN traffic_stopped TEXT;
