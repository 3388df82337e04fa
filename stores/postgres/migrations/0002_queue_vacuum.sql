-- cano_checkpoints is a queue (rows are inserted, then deleted when their run ends): vacuum and
-- analyze it after a small fraction of churn, not the default 20 %.
ALTER TABLE cano_checkpoints SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE cano_commit_marks SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
