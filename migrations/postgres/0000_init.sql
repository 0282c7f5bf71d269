CREATE SCHEMA IF NOT EXISTS "aimemo";
--> statement-breakpoint
CREATE TABLE "aimemo"."memories" (
	"namespace" text NOT NULL,
	"id" text NOT NULL,
	"content" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"timestamp" timestamp (3) with time zone NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, translate("content", '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~‘’“”–—…«»•·¿¡', '                                             '))) STORED NOT NULL,
	CONSTRAINT "memories_pk" PRIMARY KEY("namespace","id")
);
--> statement-breakpoint
CREATE INDEX "memories_ns_ts_idx" ON "aimemo"."memories" USING btree ("namespace","timestamp" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "memories_search_idx" ON "aimemo"."memories" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "memories_tags_idx" ON "aimemo"."memories" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "memories_metadata_idx" ON "aimemo"."memories" USING gin ("metadata" jsonb_path_ops);