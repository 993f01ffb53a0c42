-- jsonb text → timestamptz, or NULL when the stored text is not a timestamp. Filters on
-- document dates use it so a bad stored value never turns a query into an error
-- (pg_input_is_valid would do, but only from PostgreSQL 16 on).
CREATE OR REPLACE FUNCTION idhub_try_timestamptz(v text) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN v::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END;
$$;
