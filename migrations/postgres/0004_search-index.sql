CREATE TABLE "aimemo"."search_log" (
	"ns" integer NOT NULL,
	"term" text COLLATE "C" NOT NULL,
	"delta" bigint NOT NULL,
	"dl_delta" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aimemo"."search_namespaces" (
	"ns" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aimemo"."search_namespaces_ns_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"namespace" text NOT NULL,
	"n" bigint DEFAULT 0 NOT NULL,
	"total_dl" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aimemo"."search_pending" (
	"namespace" text NOT NULL,
	"id" text NOT NULL,
	CONSTRAINT "search_pending_pk" PRIMARY KEY("namespace","id")
);
--> statement-breakpoint
CREATE TABLE "aimemo"."search_postings" (
	"ns" integer NOT NULL,
	"term" text COLLATE "C" NOT NULL,
	"tf" integer NOT NULL,
	"dl" integer NOT NULL,
	"ts" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aimemo"."search_terms" (
	"ns" integer NOT NULL,
	"term" text COLLATE "C" NOT NULL,
	"df" integer NOT NULL,
	CONSTRAINT "search_terms_pk" PRIMARY KEY("ns","term")
);
--> statement-breakpoint
CREATE INDEX "search_log_ns_term_idx" ON "aimemo"."search_log" USING btree ("ns","term");--> statement-breakpoint
CREATE UNIQUE INDEX "search_namespaces_namespace_uq" ON "aimemo"."search_namespaces" USING btree ("namespace");--> statement-breakpoint
CREATE UNIQUE INDEX "search_postings_uq" ON "aimemo"."search_postings" USING btree ("ns","term","tf","dl","ts" DESC NULLS LAST,"seq" DESC NULLS LAST,"id");