# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The message table is partitioned by id range (issue 12 §1): (source, key) stays unique across
partitions, nothing is refused for want of a partition, partitions are prepared ahead, and
only Integration Managers see them (nobody writes them)."""
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import sql as odoo_sql

from ..services import partitioning
from .common import MfgTestCase, envelope

WIDTH = 1000


@tagged("post_install", "-at_install")
class TestPartitioning(MfgTestCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("mfg_integration.partition_rows", WIDTH)
        self.Partition = self.env["mfg.message.partition"]
        self.cr = self.env.cr

    def table_of(self, message):
        self.cr.execute("SELECT tableoid::regclass::text FROM mfg_message WHERE id = %s",
                        (message.id,))
        return self.cr.fetchone()[0]

    def test_the_table_is_partitioned_and_odoo_sees_it(self):
        self.assertEqual(partitioning.relkind(self.cr, "mfg_message"), "p")
        self.assertTrue(odoo_sql.table_exists(self.cr, "mfg_message"))
        self.cr.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                        "AND conrelid = 'mfg_message'::regclass")
        self.assertGreaterEqual(self.cr.fetchone()[0], 4, "outgoing foreign keys declared")
        self.cr.execute("SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                        "AND confrelid = 'mfg_message'::regclass")
        self.assertEqual(self.cr.fetchall(), [], "no incoming key: a partition drops in O(1)")

    def test_a_key_is_a_duplicate_whatever_partition_holds_the_first(self):
        self.Message.ingest([envelope("p1")])
        first = self.message("p1")
        partitioning.close_current(self.cr, WIDTH)
        result = self.Message.ingest([envelope("p1"), envelope("p2")])
        self.assertEqual((result["accepted"], result["duplicates"]), (1, 1))
        second = self.message("p2")
        self.assertNotEqual(self.table_of(first), self.table_of(second))
        self.assertEqual(self.message("p1"), first)
        self.assertEqual(self.Message._stored_keys("EDGE-T1", ["p1", "p2", "p9"]), {"p1", "p2"},
                         "the key table answers for every partition")
        # The same key from another source is another message.
        self.assertEqual(self.Message.ingest([envelope("p1", source="EDGE-B1")])["accepted"], 1)

    def test_a_duplicate_through_the_orm_leaves_nothing_behind(self):
        self.Message.ingest([envelope("p3")])
        partitioning.close_current(self.cr, WIDTH)
        values = {"key": "p3", "source": "EDGE-T1", "canonical_type": "machine.alarm",
                  "occurred_at": "2026-11-23 08:00:00", "connector_id": self.connector.id,
                  "company_id": self.plant.id}
        with self.assertRaisesRegex(ValidationError, "already received"):
            self.Message.create(values)
        self.assertEqual(self.Message.search_count([("key", "=", "p3")]), 1)
        created = self.Message.create(dict(values, key="p4"))
        self.cr.execute("SELECT message_id FROM mfg_message_key WHERE source = 'EDGE-T1' "
                        "AND key = 'p4'")
        self.assertEqual(self.cr.fetchone()[0], created.id)

    def test_ids_beyond_the_partitions_are_kept_then_moved_into_a_range(self):
        top = partitioning.partitions(self.cr)[-1].id_to
        self.cr.execute("SELECT setval('mfg_message_id_seq', %s)", (top + 5,))
        result = self.Message.ingest([envelope(f"o{i}") for i in range(3)])
        self.assertEqual(result["accepted"], 3, "nothing refused for want of a partition")
        messages = self.Message.search([("key", "in", ["o0", "o1", "o2"])])
        self.assertEqual({self.table_of(m) for m in messages}, {partitioning.DEFAULT_PARTITION})
        ids = set(messages.ids)
        self.Partition._maintain()
        self.assertEqual(partitioning.default_rows_range(self.cr), None)
        self.assertEqual(set(self.Message.search([("key", "in", ["o0", "o1", "o2"])]).ids), ids)
        self.assertEqual(len({self.table_of(m) for m in messages}), 1)
        self.assertNotEqual(self.table_of(messages[0]), partitioning.DEFAULT_PARTITION)

    def test_partitions_are_prepared_ahead(self):
        partitioning.close_current(self.cr, WIDTH)
        self.Message.ingest([envelope("a1")])
        self.Partition._maintain()
        next_id = partitioning.next_id(self.cr)
        ready = [p for p in partitioning.partitions(self.cr) if p.id_from > next_id]
        self.assertGreaterEqual(len(ready), 1)
        self.assertGreaterEqual(partitioning.partitions(self.cr)[-1].id_to, next_id + 2 * WIDTH)
        states = set(self.Partition.search([]).mapped("state"))
        self.assertTrue({"ready", "filling", "closed", "overflow"} <= states, states)

    def test_a_hostile_width_setting_cannot_make_a_partition_per_message(self):
        params = self.env["ir.config_parameter"].sudo()
        for value, width in (("abc", 1000000), ("-5", 1000), ("0", 1000), ("1", 1000),
                             ("99999999999", 500000000), ("2500", 2500)):
            params.set_param("mfg_integration.partition_rows", value)
            self.assertEqual(self.Message._partition_width(), width, value)

    def test_only_managers_see_partitions_and_nobody_writes_them(self):
        self.Partition._maintain()
        for user in (self.user, self.operator, self.api_user, self.user_b):
            with self.assertRaises(AccessError):
                self.Partition.with_user(user).search([])
            with self.assertRaises(AccessError):
                self.Partition.with_user(user).action_maintain_now()
        records = self.Partition.with_user(self.manager).search([])
        self.assertTrue(records)
        with self.assertRaises(AccessError):
            records[0].write({"state": "expired"})
        with self.assertRaises(AccessError):
            records[0].unlink()
        self.assertTrue(records.with_user(self.manager).action_maintain_now())

    def test_a_database_from_before_partitioning_is_converted_in_place(self):
        """The conversion run by the upgrade, on a copy of the old layout in its own schema
        (rolled back with the test)."""
        cr = self.cr
        cr.execute("""
            CREATE SCHEMA mfg_migration_test;
            SET LOCAL search_path = mfg_migration_test;
            CREATE TABLE mfg_message (id SERIAL PRIMARY KEY, source varchar NOT NULL,
                                      key varchar NOT NULL, state varchar,
                                      connector_id integer REFERENCES public.mfg_connector(id),
                                      CONSTRAINT mfg_message_source_key_uniq UNIQUE (source, key));
            CREATE INDEX mfg_message__state_index ON mfg_message (state);
            CREATE TABLE mfg_holder (id SERIAL PRIMARY KEY,
                                     message_id integer REFERENCES mfg_message(id));
            INSERT INTO mfg_message (source, key, state)
                 SELECT 'EDGE-T1', 'old-' || g, 'done' FROM generate_series(1, 50) g;
            INSERT INTO mfg_holder (message_id) VALUES (7);
        """)
        partitioning.convert_regular_table(cr, 100)
        self.assertEqual(partitioning.relkind(cr, "mfg_message"), "p")
        parts = partitioning.partitions(cr)
        self.assertEqual(parts[0].name, "mfg_message_p000000")
        self.assertEqual(parts[0].id_to, 51)
        cr.execute("SELECT count(*) FROM mfg_message_key")
        self.assertEqual(cr.fetchone()[0], 50)
        cr.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                   "AND confrelid = 'mfg_message'::regclass")
        self.assertEqual(cr.fetchone()[0], 0)
        cr.execute("SELECT count(*), max(id) FROM mfg_message")
        self.assertEqual(cr.fetchone(), (50, 50))
        cr.execute("INSERT INTO mfg_message (source, key, state) VALUES ('EDGE-T1', 'new', "
                   "'received') RETURNING id, tableoid::regclass::text")
        new_id, table = cr.fetchone()
        self.assertEqual(new_id, 51)
        self.assertEqual(table, "mfg_message_p000001")
        cr.execute("SELECT pg_get_serial_sequence('mfg_message', 'id')")
        self.assertEqual(cr.fetchone()[0], "mfg_migration_test.mfg_message_id_seq",
                         "the sequence belongs to the parent, not to the old partition")
        cr.execute("SET LOCAL search_path = public")
