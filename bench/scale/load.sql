-- The data set of `make bench-scale USERS=N`, generated inside PostgreSQL (generate_series,
-- no row loop in Python), shaped as a Barong 2.4 database holds its rows before the upgrade:
-- state set by operators without a label that explains it, state_manual false everywhere
-- (the column is ours), no daily metrics. bench/scale/run loads it with the last data
-- migrations unapplied (accounts 0010, activities 0005) and then runs them: the upgrade.
--
-- psql variables: :total (N), :base (the largest user id before the load: the operator's),
-- :password (the Barong bcrypt digest every generated user shares) and one section flag:
--   prepare     save and drop the secondary indexes of the loaded tables
--   users       N users (WAL-logged: the operator's row stays)
--   side        labels, profiles, phones, documents (each truncated and filled in one
--               transaction: with wal_level=minimal PostgreSQL writes no WAL for them)
--   activities  3.1 N activities, the same way
--   indexes_users / indexes_activities   the saved indexes again (two sessions at once)
--   finish      the user id blocks and the user id sequence
-- User n (1…N, id base + n) gets, by residue (per million users):
--   e-mail verified label unless n % 10 = 0           900k  level 1
--   phone verified label when n % 2 = 0               500k  level 2 (with the e-mail)
--   document label when n % 8 = 0                     125k  verified when n % 40 in (16, 32):
--     level 3 (50k); pending when n % 40 = 8 (25k in the KYC queue); rejected otherwise
--   public tier label when n % 4 = 1                  250k
--   public kyc_provider label when n % 70 = 1         14.3k
--   private ban label when n % 2000 = 1               500   state banned (explained)
--   banned by an operator, no label: n % 2000 = 3     500   (Barong's PUT /admin/users)
--     and, among level 3, n % 1000 = 16 banned, 56 locked, 96 deleted (1,000 each)
--   activated by an operator without an e-mail label: n % 1000 = 500 (1,000)
-- 1.79 N labels, 0.3 N profiles, 0.55 N phones, 0.225 N documents and 3.1 N activities (a
-- sign-up per user, 2 N logins, 0.1 N operator audit rows) spread over the same 347 days at
-- every size, so a day holds N / 347 sign-ups: the proportions of the 10M-user case
-- (17.9M labels, 3M profiles, 5.5M phones, 2.25M documents, 31M activities).
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 1;
-- Foreign-key and user-block triggers off for the load (the blocks are rebuilt at the end).
SET session_replication_role = replica;

\if :{?prepare}
-- Secondary indexes are dropped now and built again after the load: one sort each
-- instead of tens of millions of insertions. Constraints (primary and unique keys) stay.
DROP TABLE IF EXISTS bench_saved_indexes;
CREATE TABLE bench_saved_indexes AS
SELECT tablename, indexname, indexdef FROM pg_indexes i
 WHERE schemaname = 'public'
   AND tablename IN ('users', 'labels', 'profiles', 'phones', 'documents', 'activities')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname FROM bench_saved_indexes LOOP
    EXECUTE 'DROP INDEX ' || quote_ident(r.indexname);
  END LOOP;
END $$;
\endif

\if :{?users}
INSERT INTO users (id, password, uid, email, role, level, otp, state, state_manual,
                   created_at, updated_at)
SELECT :base + n, :'password', 'ID' || upper(lpad(to_hex(n), 10, '0')),
       'user' || n || '@example.com', 'member',
       CASE WHEN n % 10 = 0 THEN 0
            WHEN n % 2 <> 0 THEN 1
            WHEN n % 40 IN (16, 32) THEN 3
            ELSE 2 END,
       false,
       CASE WHEN n % 2000 IN (1, 3) OR n % 1000 = 16 THEN 'banned'
            WHEN n % 1000 = 56 THEN 'locked'
            WHEN n % 1000 = 96 THEN 'deleted'
            WHEN n % 1000 = 500 THEN 'active'
            WHEN n % 10 = 0 THEN 'pending'
            ELSE 'active' END,
       false,
       now() - make_interval(secs => (:total - n) * 30000000.0 / :total),
       now() - make_interval(secs => (:total - n) * 30000000.0 / :total)
  FROM generate_series(1, :total) AS n;
\endif

\if :{?side}
-- created_at of user n, as above.
CREATE TEMP VIEW bench_users AS
SELECT n, :base + n AS id,
       now() - make_interval(secs => (:total - n) * 30000000.0 / :total) AS created_at
  FROM generate_series(1, :total) AS n;

BEGIN;
TRUNCATE labels CASCADE;
INSERT INTO labels (user_id, key, value, scope, created_at, updated_at)
SELECT id, 'email', 'verified', 'private', created_at, created_at
  FROM bench_users WHERE n % 10 <> 0
UNION ALL
SELECT id, 'phone', 'verified', 'private', created_at, created_at
  FROM bench_users WHERE n % 2 = 0
UNION ALL
SELECT id, 'document',
       CASE WHEN n % 40 = 8 THEN 'pending'
            WHEN n % 40 IN (16, 32) THEN 'verified'
            ELSE 'rejected' END,
       'private', created_at, created_at + interval '1 day'
  FROM bench_users WHERE n % 8 = 0
UNION ALL
SELECT id, 'tier', 'gold', 'public', created_at, created_at FROM bench_users WHERE n % 4 = 1
UNION ALL
SELECT id, 'kyc_provider', 'sumsub', 'public', created_at, created_at
  FROM bench_users WHERE n % 70 = 1
UNION ALL
SELECT id, 'ban', 'by_admin', 'private', created_at, created_at
  FROM bench_users WHERE n % 2000 = 1;
COMMIT;

BEGIN;
TRUNCATE profiles CASCADE;
INSERT INTO profiles (user_id, first_name, last_name, dob, address, postcode, city, country,
                      state, created_at, updated_at)
SELECT id, 'First' || n, 'Last' || n, date '1990-01-01' + (n % 9000), n || ' Main St',
       lpad((n % 99999)::text, 5, '0'), 'City' || (n % 500),
       (ARRAY['GB', 'DE', 'FR', 'US', 'JP', 'UA', 'ES', 'IT'])[1 + n % 8],
       (ARRAY['verified', 'submitted', 'drafted'])[n % 10], created_at, created_at
  FROM bench_users WHERE n % 10 BETWEEN 1 AND 3;
COMMIT;

BEGIN;
TRUNCATE phones CASCADE;
INSERT INTO phones (user_id, country, number, attempts, validated_at, created_at, updated_at)
SELECT id, 'GB', '44' || lpad(n::text, 10, '0'), 0,
       CASE WHEN n % 2 = 0 THEN created_at END, created_at, created_at
  FROM bench_users WHERE n % 2 = 0 OR n % 20 = 1;
COMMIT;

BEGIN;
TRUNCATE documents CASCADE;
INSERT INTO documents (user_id, upload, doc_type, doc_number, doc_expire, created_at,
                       updated_at)
SELECT id, 'uploads/document/upload/bench/' || n || '.png', 'Passport', 'P' || n,
       date '2030-01-01', created_at, created_at FROM bench_users WHERE n % 8 = 0
UNION ALL
SELECT id, 'uploads/document/upload/bench/' || n || 'b.png', 'Utility Bill', 'U' || n,
       NULL, created_at, created_at FROM bench_users WHERE n % 8 = 0 AND n % 5 <> 0;
COMMIT;
\endif

\if :{?activities}
-- One sign-up per user, 2 N logins (10 % failed) over 347 days, 0.1 N operator audit rows.
BEGIN;
TRUNCATE activities CASCADE;
INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT :base + n, NULL, 'user', '10.0.' || (n % 250) || '.' || (n % 200), 'Mozilla/5.0 bench',
       'account', 'signup', 'succeed', NULL,
       now() - make_interval(secs => (:total - n) * 30000000.0 / :total)
  FROM generate_series(1, :total) AS n;
INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT :base + 1 + (g * 7919) % :total, NULL, 'user', '10.1.' || (g % 250) || '.' || (g % 200),
       'Mozilla/5.0 bench', 'session', 'login',
       CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeed' END, NULL,
       now() - make_interval(secs => (2 * :total - g) * 15000000.0 / :total)
  FROM generate_series(1::bigint, 2 * :total) AS g;
INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT :base, 'ID' || upper(lpad(to_hex(1 + (g * 104729) % :total), 10, '0')), 'admin',
       '10.2.0.1', 'Mozilla/5.0 bench', 'users', 'update', 'succeed', '{"state": "active"}',
       now() - make_interval(secs => (:total / 10 - g) * 300000000.0 / :total)
  FROM generate_series(1::bigint, :total / 10) AS g;
COMMIT;
\endif

\if :{?indexes_users}
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexdef FROM bench_saved_indexes WHERE tablename <> 'activities' LOOP
    EXECUTE r.indexdef;
  END LOOP;
END $$;
\endif

\if :{?indexes_activities}
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexdef FROM bench_saved_indexes WHERE tablename = 'activities' LOOP
    EXECUTE r.indexdef;
  END LOOP;
END $$;
\endif

\if :{?finish}
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
SET session_replication_role = origin;
-- The triggers were off: count the users per id block again (accounts migration 0008).
SELECT user_id_blocks_rebuild();
DROP TABLE bench_saved_indexes;
\endif
