package store

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Save implements Store.
//
// A new session with a sid writes the sid pointer first, then the session
// and its index entry: a failure in between leaves a pointer to no session,
// never a session DeleteSID cannot find. At the cap, the user's sessions
// that expire soonest are then ended (see RedisOptions.MaxSessionsPerUser).
//
// An update is one script. Each Save carries a random write token that the
// session keeps, so that a conditional update retried after its first
// attempt was applied (a lost reply, a retried command) recognises its own
// write instead of reporting ErrConflict.
func (s *Redis) Save(ctx context.Context, token []byte, rec Record) ([]byte, error) {
	if rec.Subject == "" || rec.Provider == "" {
		return nil, errors.New("ginauth: redis store: record without provider or subject")
	}
	now := s.now()
	if !rec.Expiry.After(now) {
		return nil, errors.New("ginauth: redis store: record already expired")
	}
	tag := userTag(rec.Provider, rec.Subject)
	var id string
	if token != nil {
		gotTag, gotID, ok := splitToken(token)
		if !ok || gotTag != tag {
			return nil, ErrNotFound // checked without any I/O
		}
		id = gotID
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if token != nil {
		err := s.update(ctx, tag, id, &rec, now)
		// Written, refused (changed or gone) or unknown: this instance's
		// next loads read what Redis has now.
		s.nearWrote(0, tag+id)
		if err != nil {
			return nil, err
		}
		return token, nil
	}
	return s.create(ctx, tag, &rec, now)
}

// writeToken returns a fresh random write token.
func writeToken() string {
	var raw [8]byte
	randRead(raw[:])
	return hex.EncodeToString(raw[:])
}

// create saves a new session under a fresh id.
func (s *Redis) create(ctx context.Context, tag string, rec *Record, now time.Time) ([]byte, error) {
	var raw [32]byte
	randRead(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	ttl := ttlMillis(rec.Expiry, now)
	member, pe := id, ""
	if rec.SID != "" {
		h := sidHash(rec.Provider, rec.SID)
		member += "." + h
		var err error
		if pe, err = s.point(ctx, tag, h, now, ttl); err != nil {
			return nil, err
		}
	}
	evict, err := saveNew.Run(ctx, s.client, []string{s.sessionKey(tag, id), s.indexKey(tag)},
		member, stored(rec), rec.Provider, rec.Subject, rec.SID, ttl, now.UnixMilli(),
		rec.Expiry.UnixMilli(), writeToken(), pe, s.perUser).StringSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(evict) > 0 {
		// The new session is saved and indexed; an eviction that fails now
		// leaves the user over the cap until the next sign-in evicts again,
		// with every session still indexed.
		_, _ = s.deleteMembers(ctx, tag, evict)
	}
	return []byte(tag + id), nil
}

// point writes the sid pointer of provider session h to tag, to live
// twice ttl (or longer, if it already does), and returns until when (Unix
// ms on the store's clock, as a decimal string) it is known to live.
func (s *Redis) point(ctx context.Context, tag, h string, now time.Time, ttl int64) (string, error) {
	life := 2 * ttl
	key := s.sidPointer(h)
	_, err := s.acked(ctx, key, pointSID, []string{key}, tag, life)
	if err != nil {
		return "", unavailable(err)
	}
	return strconv.FormatInt(now.UnixMilli()+life, 10), nil
}

// update writes an existing, live session.
func (s *Redis) update(ctx context.Context, tag, id string, rec *Record, now time.Time) error {
	ttl := ttlMillis(rec.Expiry, now)
	cond := "0"
	if rec.IfMatch != nil {
		cond = "1"
	}
	keys := []string{s.sessionKey(tag, id), s.indexKey(tag)}
	args := []any{stored(rec), ttl, now.UnixMilli(), cond, rec.IfMatch, writeToken(), rec.Expiry.UnixMilli(), ""}
	res, err := saveExisting.Run(ctx, s.client, keys, args...).Result()
	if h, ok := res.(string); ok && err == nil {
		// The session would outlive its sid pointer: extend the pointer
		// first, then write (the first call wrote nothing).
		if len(h) != 2*20 {
			return unavailable(fmt.Errorf("session %s has a malformed index member", keys[0]))
		}
		pe, err := s.point(ctx, tag, h, now, ttl)
		if err != nil {
			return err
		}
		args[len(args)-1] = pe
		res, err = saveExisting.Run(ctx, s.client, keys, args...).Result()
	}
	if err != nil {
		return unavailable(err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return ErrNotFound
	case int64(2):
		return ErrConflict
	}
	return unavailable(fmt.Errorf("unexpected script reply %v", res))
}
