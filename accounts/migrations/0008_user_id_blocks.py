"""Users per block of ids, kept by a trigger on PostgreSQL (accounts.models.UserIdBlock).

The trigger counts every insert and delete in the same transaction, whoever makes it
(sign-ups, imports, the shell); ``user_id_blocks_rebuild()`` recounts after a load made
with triggers off (bench/scale/load.sql, a restore with ``--disable-triggers``). The table
is filled here while ``users`` is locked against inserts, so no row is missed or counted
twice. Elsewhere (SQLite) the table stays empty and pages walk the ids.
"""

from django.db import migrations, models

# The block size and shard count of accounts.models (USER_ID_BLOCK, USER_ID_SHARDS).
FORWARD = """
CREATE FUNCTION user_id_blocks_rebuild() RETURNS void LANGUAGE sql AS $$
  DELETE FROM user_id_blocks;
  INSERT INTO user_id_blocks (block, shard, users)
  SELECT id / 10000, id % 8, count(*) FROM users GROUP BY 1, 2;
$$;
CREATE FUNCTION user_id_blocks_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO user_id_blocks (block, shard, users)
    SELECT id / 10000, id % 8, count(*) FROM inserted GROUP BY 1, 2
    ON CONFLICT (block, shard) DO UPDATE SET users = user_id_blocks.users + EXCLUDED.users;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE user_id_blocks AS b SET users = b.users - gone.users
      FROM (SELECT id / 10000 AS block, id % 8 AS shard, count(*) AS users
              FROM deleted GROUP BY 1, 2) AS gone
     WHERE b.block = gone.block AND b.shard = gone.shard;
  ELSE
    DELETE FROM user_id_blocks;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER users_count_inserted AFTER INSERT ON users
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION user_id_blocks_count();
CREATE TRIGGER users_count_deleted AFTER DELETE ON users
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION user_id_blocks_count();
CREATE TRIGGER users_count_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION user_id_blocks_count();
LOCK TABLE users IN SHARE MODE;
SELECT user_id_blocks_rebuild();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS users_count_inserted ON users;
DROP TRIGGER IF EXISTS users_count_deleted ON users;
DROP TRIGGER IF EXISTS users_count_truncated ON users;
DROP FUNCTION IF EXISTS user_id_blocks_count();
DROP FUNCTION IF EXISTS user_id_blocks_rebuild();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_webauthn_credentials"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserIdBlock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("block", models.BigIntegerField()),
                ("shard", models.SmallIntegerField()),
                ("users", models.BigIntegerField(default=0)),
            ],
            options={
                "db_table": "user_id_blocks",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("block", "shard"), name="user_id_blocks_block_shard"
                    )
                ],
            },
        ),
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
