export const PG_POISON = 'POISON: the database refuses this row';

/** SQL for a trigger that makes PostgreSQL itself refuse the row holding PG_POISON. */
export const PG_POISON_SQL = [
  `CREATE OR REPLACE FUNCTION aimemo.test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN IF NEW.content = '${PG_POISON}' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$`,
  `DROP TRIGGER IF EXISTS test_poison ON aimemo.memories`,
  `CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE ON aimemo.memories FOR EACH ROW EXECUTE FUNCTION aimemo.test_poison()`,
];
