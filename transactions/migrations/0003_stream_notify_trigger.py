"""On PostgreSQL, wake the stream relay when events commit (NOTIFY is delivered at commit).

A statement-level trigger covers every way an event row is written (one row or a bulk insert);
notifications with the same payload in one transaction collapse into one. Other databases have
no NOTIFY: the relay polls there.
"""

from django.db import migrations

CHANNEL = "payflow_stream"

CREATE = f"""
CREATE OR REPLACE FUNCTION payflow_stream_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS payflow_stream_notify ON transactions_streamevent;
CREATE TRIGGER payflow_stream_notify
    AFTER INSERT ON transactions_streamevent
    FOR EACH STATEMENT EXECUTE FUNCTION payflow_stream_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS payflow_stream_notify ON transactions_streamevent;
DROP FUNCTION IF EXISTS payflow_stream_notify();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0002_stream_relay_state")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
