-- Reference data shipped inside the signed bundle: the countries table, loaded with COPY from
-- 20260107090000_countries.data/countries.csv (CSV with a header line).
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL
);
-- sealift:data countries.csv
COPY countries (code, name) FROM STDIN WITH (FORMAT csv, HEADER true);
