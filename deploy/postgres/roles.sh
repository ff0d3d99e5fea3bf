#!/bin/sh
# Each service's own role and database, made by a superuser (psql's usual
# PGHOST/PGPORT/PGUSER): `platforms` owns database platforms, `commands` owns
# database commands; neither is superuser nor may create databases or roles,
# and neither may connect to the other's database. Idempotent: run at every
# start of the one-machine stack, once by the postgres image's initdb
# (/docker-entrypoint-initdb.d: compose and Kubernetes) and by the tests.
#   PLATFORMS_DB_PASSWORD, COMMANDS_DB_PASSWORD: set each role's password
#   (unset: none, for servers that trust loopback, like the stack's).
set -eu

psql_as_superuser() {
  psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# role database password
own_database() {
  psql_as_superuser -d postgres -v role="$1" -v db="$2" -v password="$3" <<'SQL'
select format('create role %I login nosuperuser nocreatedb nocreaterole noreplication', :'role')
  where not exists (select from pg_roles where rolname = :'role') \gexec
select format('alter role %I password %L', :'role', :'password') where :'password' <> '' \gexec
select format('create database %I owner %I', :'db', :'role')
  where not exists (select from pg_database where datname = :'db') \gexec
select format('alter database %I owner to %I', :'db', :'role') \gexec
select format('revoke all on database %I from public', :'db') \gexec
SQL
  # A database made before the role owned it (an older stack): its objects
  # pass to the role, which runs its own migrations.
  psql_as_superuser -d "$2" -v role="$1" <<'SQL'
select format('alter table public.%I owner to %I', tablename, :'role')
  from pg_tables where schemaname = 'public' and tableowner <> :'role' \gexec
select format('alter function %s owner to %I', p.oid::regprocedure, :'role')
  from pg_proc p where p.pronamespace = 'public'::regnamespace
   and p.proowner <> (select oid from pg_roles where rolname = :'role') \gexec
SQL
}

own_database platforms platforms "${PLATFORMS_DB_PASSWORD:-}"
own_database commands commands "${COMMANDS_DB_PASSWORD:-}"
