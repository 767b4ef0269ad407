-- The chain's first migration in every lint fixture: the "pre-existing" relations.
CREATE TABLE ref (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, a int, v varchar(10), n numeric(10,2), ts timestamp(3), s text, r int);
CREATE INDEX t_a_idx ON t (a);
ALTER TABLE t ADD COLUMN u int;
CREATE UNIQUE INDEX t_u_uidx ON t (u);
CREATE TABLE old (id int);
CREATE TYPE mood AS ENUM ('ok');
CREATE TABLE p (id int) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
INSERT INTO ref VALUES (1);
INSERT INTO t VALUES (1, 1, 'x', 1.5, '2026-01-01', 's', 1);
INSERT INTO p VALUES (1);
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
