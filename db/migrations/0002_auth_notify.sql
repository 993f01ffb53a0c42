-- Every change to a token or a tenant tells the hub replicas to forget cached authentications
-- (api/auth-cache.ts LISTENs on idhub_auth), whoever made the change: the hub, the CLI, SQL.
CREATE OR REPLACE FUNCTION idhub_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'api_tokens' THEN
    PERFORM pg_notify('idhub_auth', json_build_object('tokenId', OLD.id)::text);
  ELSE
    PERFORM pg_notify('idhub_auth', json_build_object('tenantId', OLD.id)::text);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER api_tokens_notify_auth AFTER UPDATE OF revoked_at, expires_at, scopes, hash OR DELETE
  ON api_tokens FOR EACH ROW EXECUTE FUNCTION idhub_notify_auth();
--> statement-breakpoint
CREATE TRIGGER tenants_notify_auth AFTER UPDATE OF status OR DELETE
  ON tenants FOR EACH ROW EXECUTE FUNCTION idhub_notify_auth();
