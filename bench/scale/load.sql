-- The 1M-user data set of `make bench-scale`, generated inside PostgreSQL (no row loop in
-- Python). Run after `migrate` and `seed_levels`; :password is one hash all users share.
-- User n (1…1,000,000) gets, by residue:
--   e-mail verified label unless n % 10 = 0          900k   level 1, state active
--   phone verified label when n % 2 = 0              500k   level 2 (with the e-mail)
--   document label when n % 8 = 0                    125k   verified → level 3, or pending
--     (pending when n % 40 = 8: 25k in the KYC queue)
--   public tier label when n % 4 = 1                 250k
--   private ban label when n % 2000 = 1              500    state banned
--   banned by an operator (state_manual) when n % 2000 = 3
-- profiles 300k, phones 550k, documents ~225k, activities 3M (sign-ups, logins, audit rows).
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
-- Bulk loading: foreign-key triggers off, and the secondary indexes dropped now and
-- rebuilt at the end (one sort each instead of millions of insertions).
SET session_replication_role = replica;
CREATE TEMP TABLE saved_indexes AS
SELECT indexname, indexdef FROM pg_indexes i
 WHERE schemaname = 'public'
   AND tablename IN ('users', 'labels', 'profiles', 'phones', 'documents', 'activities')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname FROM saved_indexes LOOP
    EXECUTE 'DROP INDEX ' || quote_ident(r.indexname);
  END LOOP;
END $$;

CREATE TEMP TABLE series AS
SELECT n,
       now() - make_interval(secs => (1000000 - n) * 30) AS created_at,
       'ID' || upper(lpad(to_hex(n), 10, '0')) AS uid
  FROM generate_series(1, 1000000) AS n;

INSERT INTO users (password, uid, email, role, level, otp, state, state_manual,
                   created_at, updated_at)
SELECT :'password', uid, 'user' || n || '@example.com', 'member',
       CASE WHEN n % 10 = 0 THEN 0
            WHEN n % 2 <> 0 THEN 1
            WHEN n % 8 = 0 AND n % 40 <> 8 THEN 3
            ELSE 2 END,
       false,
       CASE WHEN n % 2000 IN (1, 3) THEN 'banned'
            WHEN n % 10 = 0 THEN 'pending'
            ELSE 'active' END,
       n % 2000 = 3,
       created_at, created_at
  FROM series;

CREATE TEMP TABLE ids AS
SELECT s.n, u.id, u.uid, s.created_at FROM series s JOIN users u ON u.uid = s.uid;
CREATE INDEX ON ids (n);
ANALYZE ids;

INSERT INTO labels (user_id, key, value, scope, created_at, updated_at)
SELECT id, 'email', 'verified', 'private', created_at, created_at FROM ids WHERE n % 10 <> 0
UNION ALL
SELECT id, 'phone', 'verified', 'private', created_at, created_at FROM ids WHERE n % 2 = 0
UNION ALL
SELECT id, 'document', CASE WHEN n % 40 = 8 THEN 'pending' ELSE 'verified' END, 'private',
       created_at, created_at + interval '1 day' FROM ids WHERE n % 8 = 0
UNION ALL
SELECT id, 'tier', 'gold', 'public', created_at, created_at FROM ids WHERE n % 4 = 1
UNION ALL
SELECT id, 'ban', 'by_admin', 'private', created_at, created_at FROM ids WHERE n % 2000 = 1;

INSERT INTO profiles (user_id, first_name, last_name, dob, address, postcode, city, country,
                      state, created_at, updated_at)
SELECT id, 'First' || n, 'Last' || n, date '1990-01-01' + (n % 9000), n || ' Main St',
       lpad((n % 99999)::text, 5, '0'), 'City' || (n % 500),
       (ARRAY['GB', 'DE', 'FR', 'US', 'JP', 'UA', 'ES', 'IT'])[1 + n % 8],
       (ARRAY['verified', 'submitted', 'drafted'])[n % 10], created_at, created_at
  FROM ids WHERE n % 10 BETWEEN 1 AND 3;

INSERT INTO phones (user_id, country, number, attempts, validated_at, created_at, updated_at)
SELECT id, 'GB', '44' || lpad(n::text, 10, '0'), 0,
       CASE WHEN n % 2 = 0 THEN created_at END, created_at, created_at
  FROM ids WHERE n % 2 = 0 OR n % 20 = 1;

INSERT INTO documents (user_id, upload, doc_type, doc_number, doc_expire, created_at, updated_at)
SELECT id, 'uploads/document/upload/bench/' || n || '.png', 'Passport', 'P' || n,
       date '2030-01-01', created_at, created_at FROM ids WHERE n % 8 = 0
UNION ALL
SELECT id, 'uploads/document/upload/bench/' || n || 'b.png', 'Utility Bill', 'U' || n,
       NULL, created_at, created_at FROM ids WHERE n % 8 = 0 AND n % 5 <> 0;

-- Activities: one sign-up per user, 1.9M logins (10 % failed), 100k operator audit rows.
INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT id, NULL, 'user', '10.0.' || (n % 250) || '.' || (n % 200), 'Mozilla/5.0 bench',
       'account', 'signup', 'succeed', NULL, created_at
  FROM ids;

INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT i.id, NULL, 'user', '10.1.' || (g % 250) || '.' || (g % 200), 'Mozilla/5.0 bench',
       'session', 'login', CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeed' END, NULL,
       now() - make_interval(secs => (1900000 - g) * 15)
  FROM generate_series(1, 1900000) AS g
  JOIN ids i ON i.n = 1 + (g::bigint * 7919) % 1000000;

INSERT INTO activities (user_id, target_uid, category, user_ip, user_agent, topic, action,
                        result, data, created_at)
SELECT (SELECT min(id) FROM users WHERE role = 'superadmin'), i.uid, 'admin', '10.2.0.1',
       'Mozilla/5.0 bench', 'users', 'update', 'succeed', '{"state": "active"}',
       now() - make_interval(secs => (100000 - g) * 300)
  FROM generate_series(1, 100000) AS g
  JOIN ids i ON i.n = 1 + (g::bigint * 104729) % 1000000;

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexdef FROM saved_indexes LOOP
    EXECUTE r.indexdef;
  END LOOP;
END $$;
SET session_replication_role = origin;
-- The triggers were off: count the users per id block again (accounts migration 0008).
SELECT user_id_blocks_rebuild();

VACUUM ANALYZE;
