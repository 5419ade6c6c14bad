import { describe, expect, it } from 'vitest'
import { writtenTopics } from './write-watch.js'

describe('writtenTopics', () => {
  it.each([
    ['update "users" set "role" = $1 where "id" = $2', ['accounts']],
    ['delete from group_members where user_id = ?', ['accounts']],
    ['insert into "api_keys" ("id") values (?) on conflict ("user_id") do update set "id" = excluded."id"', ['accounts']],
    ['with gone as (delete from "model_grants" where "model_id" = $1 returning 1) update "registry_state" set "version" = "version" + 1', ['registry']],
    ['INSERT OR REPLACE INTO app_settings (key, value) VALUES (?, ?)', ['accounts']],
    ['update public."groups" set "permissions" = $1', ['accounts']],
    ['truncate table users', ['accounts']],
  ])('%s → %j', (text, topics) => {
    expect(writtenTopics(text)).toEqual(topics)
  })

  it.each([
    'select * from "users" where "id" = ?',
    'select "id" from "models" where "id" = $1 for update',
    'insert into "audit_log" ("id") values (?)',
    'update "api_keys" set "last_used_at" = ? where "id" = ?',
    'update "api_keys" set "last_used_at" = $1 where "id" = $2',
  ])('%s writes no watched topic', (text) => {
    expect(writtenTopics(text)).toEqual([])
  })

  it('a touch that also changes anything else is a write of the key', () => {
    expect(writtenTopics('update "api_keys" set "last_used_at" = ?, "key_hash" = ? where "id" = ?')).toEqual(['accounts'])
  })
})
