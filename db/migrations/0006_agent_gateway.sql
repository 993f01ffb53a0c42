ALTER TABLE "agent_commands" ADD COLUMN "agent_group" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_commands" ADD COLUMN "target_agent_id" uuid;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "connected_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "agent_commands_dispatch_idx" ON "agent_commands" USING btree ("tenant_id","agent_group","seq") WHERE "agent_commands"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "agent_commands_lease_idx" ON "agent_commands" USING btree ("lease_expires_at") WHERE "agent_commands"."state" = 'leased';