-- A user's drafts beyond their latest 50 (database.KEEP_DRAFTS) go in the statement that adds a
-- new one: one trip to the database's thread per draft instead of two. A burst of 200 drafts
-- queued on that one thread, so the second trip held up every draft's send (bench/bot.py).
CREATE TRIGGER drafts_keep_latest AFTER INSERT ON drafts
BEGIN
    DELETE FROM drafts
    WHERE user_id = NEW.user_id
      AND id NOT IN (
          SELECT id FROM drafts WHERE user_id = NEW.user_id
          ORDER BY created_at DESC, rowid DESC
          LIMIT 50
      );
END;
