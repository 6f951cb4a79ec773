package store

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

const (
	// scriptBatch is the most sessions one index script handles: a larger
	// MaxSessionsPerUser takes several scripts.
	scriptBatch = 256
)

// memberID is the session id of an index member (<id> or <id>.<sid hash>).
func memberID(m string) string {
	id, _, _ := strings.Cut(m, ".")
	return id
}

// Delete implements Store.
func (s *Redis) Delete(ctx context.Context, token []byte) error {
	tag, id, ok := splitToken(token)
	if !ok {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.deleteKeys(ctx, tag, id)
}

// deleteKeys deletes one session and its index entry.
func (s *Redis) deleteKeys(ctx context.Context, tag, id string) error {
	keys := []string{s.sessionKey(tag, id), s.indexKey(tag)}
	_, err := s.acked(ctx, keys[1], deleteOne, keys, id)
	s.nearWrote(0, tag+id)
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// batch returns the keys and arguments of an index script over members:
// the index, then each member's session; now, then the members.
func (s *Redis) batch(tag string, members []string) ([]string, []any) {
	keys := make([]string, 1, 1+len(members))
	args := make([]any, 1, 1+len(members))
	keys[0] = s.indexKey(tag)
	args[0] = s.now().UnixMilli()
	for _, m := range members {
		keys = append(keys, s.sessionKey(tag, memberID(m)))
		args = append(args, m)
	}
	return keys, args
}

// deleteMembers ends the sessions of members, removes them from the index
// and returns how many of them were live.
func (s *Redis) deleteMembers(ctx context.Context, tag string, members []string) (int, error) {
	live := 0
	for len(members) > 0 {
		n := min(len(members), scriptBatch)
		keys, args := s.batch(tag, members[:n])
		members = members[n:]
		var r int
		cmd, err := s.acked(ctx, keys[0], deleteMembers, keys, args...)
		if err == nil {
			r, err = cmd.Int()
		}
		if s.near != nil {
			for _, m := range args[1:] {
				s.nearWrote(0, tag+memberID(m.(string)))
			}
		}
		if err != nil {
			return live, unavailable(err)
		}
		live += r
	}
	return live, nil
}

// List implements Index: the index's unexpired members, checked against
// their sessions.
func (s *Redis) List(ctx context.Context, provider, subject string) ([][]byte, error) {
	tag := userTag(provider, subject)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	members, err := s.client.ZRangeByScore(ctx, s.indexKey(tag), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(s.now().UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([][]byte, 0, len(members))
	for len(members) > 0 {
		n := min(len(members), scriptBatch)
		keys, args := s.batch(tag, members[:n])
		members = members[n:]
		live, err := listLive.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return nil, unavailable(err)
		}
		for _, m := range live {
			out = append(out, []byte(tag+memberID(m)))
		}
	}
	return out, nil
}

// DeleteUser implements Index.
func (s *Redis) DeleteUser(ctx context.Context, provider, subject string) (int, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.deleteWhere(ctx, userTag(provider, subject), "")
}

// DeleteSID implements Index. It finds the user through the sid pointer,
// then ends the user's sessions whose index member names the sid.
func (s *Redis) DeleteSID(ctx context.Context, provider, sid string) (int, error) {
	h := sidHash(provider, sid)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.client.Get(ctx, s.sidPointer(h)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	if _, err := hex.DecodeString(tag); err != nil || len(tag) != tagLen {
		return 0, nil
	}
	return s.deleteWhere(ctx, tag, "."+h)
}

// deleteWhere ends the sessions of the user tag whose index member ends
// with suffix ("" for all). The index read is the moment that counts: every
// session created before it is in it (a session and its entry are written
// by one script), and is ended.
func (s *Redis) deleteWhere(ctx context.Context, tag, suffix string) (int, error) {
	all, err := s.client.ZRange(ctx, s.indexKey(tag), 0, -1).Result()
	if err != nil {
		return 0, unavailable(err)
	}
	members := all[:0]
	for _, m := range all {
		if strings.HasSuffix(m, suffix) {
			members = append(members, m)
		}
	}
	return s.deleteMembers(ctx, tag, members)
}
