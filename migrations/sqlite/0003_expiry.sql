ALTER TABLE `memories` ADD `expires_at` integer;--> statement-breakpoint
CREATE INDEX `memories_expires_idx` ON `memories` (`expires_at`) WHERE "memories"."expires_at" IS NOT NULL;