package oautherr

import (
	"strings"
	"testing"
)

func TestCleanCapsAndEscapes(t *testing.T) {
	if got := Code("invalid_scope"); got != "invalid_scope" {
		t.Fatalf("Code = %q", got)
	}
	if got := Description("bad\r\nline\x00é<"); got != "bad??line??<" {
		t.Fatalf("Description = %q", got)
	}
	if got := Description(strings.Repeat("a", 500)); len(got) != MaxDescriptionLen {
		t.Fatalf("len = %d", len(got))
	}
	if got := Code(strings.Repeat("b", 100)); len(got) != MaxCodeLen {
		t.Fatalf("len = %d", len(got))
	}
}

func TestClientConfig(t *testing.T) {
	for code, want := range map[string]bool{
		"invalid_client": true, "unauthorized_client": true, "invalid_scope": true,
		"unsupported_response_type": true, "incorrect_client_credentials": true,
		"invalid_grant": false, "access_denied": false, "server_error": false,
		"invalid_request": false, "": false,
	} {
		if got := ClientConfig(code); got != want {
			t.Errorf("ClientConfig(%q) = %v, want %v", code, got, want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("invalid_scope")
	f.Add("\xff\xfe\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, got := range []string{Code(s), Description(s)} {
			if len(got) > MaxDescriptionLen {
				t.Fatalf("too long: %d", len(got))
			}
			for i := 0; i < len(got); i++ {
				if got[i] < 0x20 || got[i] > 0x7e {
					t.Fatalf("unprintable byte %#x in %q", got[i], got)
				}
			}
		}
	})
}
