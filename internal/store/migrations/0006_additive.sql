-- vigil: additive
-- Rolling upgrades: schema_migrations records whether a migration only adds
-- (tables, nullable or defaulted columns, indexes). A vigil opening a
-- database migrated further than it knows runs on if every newer migration
-- is additive, so an older replica keeps working beside a newer one.
ALTER TABLE schema_migrations ADD COLUMN additive BOOLEAN NOT NULL DEFAULT FALSE;
