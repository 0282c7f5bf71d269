CREATE TABLE `memories` (
	`rid` integer PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`id` text NOT NULL,
	`content` text NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `memories_ns_id_uq` ON `memories` (`namespace`,`id`);--> statement-breakpoint
CREATE INDEX `memories_ns_ts_idx` ON `memories` (`namespace`,`timestamp`);