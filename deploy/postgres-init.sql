-- Run once by the postgres image on a new volume (docker-entrypoint-initdb.d).
-- The request path logs in as lifeos_app, the row-level-security role
-- (no BYPASSRLS); migrations add its grants and policies. Change the
-- password for anything beyond a local trial, and DATABASE_APP_URL with it.
CREATE ROLE lifeos_app LOGIN PASSWORD 'lifeos_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
GRANT lifeos_app TO lifeos;
