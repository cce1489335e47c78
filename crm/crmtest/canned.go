package crmtest

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
)

func shortcuts(cs []crm.CannedResponse) []string {
	return pluck(cs, func(c crm.CannedResponse) string { return c.Shortcut })
}

func testCanned(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	equal(t, "an empty store", shortcuts(must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))), []string{})

	refund := must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: "refund-sent", Title: "Refund sent",
		Text: "Hi {{customer.name}}, the refund for order {{order.id}} is on its way.", UpdatedBy: "grace"}))
	if refund.UpdatedAt.IsZero() || refund.Title != "Refund sent" || refund.UpdatedBy != "grace" || !strings.Contains(refund.Text, "{{order.id}}") {
		t.Fatalf("stored %+v: want its fields kept and UpdatedAt set", refund)
	}
	must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: "greeting", Text: "Hello, how can I help?"}))
	must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: "2fa", Text: "Check your authenticator app."}))
	list := must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))
	equal(t, "by shortcut", shortcuts(list), []string{"2fa", "greeting", "refund-sent"})
	if list[2] != refund {
		t.Errorf("listed %+v, stored %+v", list[2], refund)
	}

	t.Run("replaced", func(t *testing.T) {
		again := must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: "refund-sent", Text: "Your refund is on its way.", UpdatedBy: "alan"}))
		if again.UpdatedAt.Before(refund.UpdatedAt) || again.Title != "" || again.UpdatedBy != "alan" {
			t.Errorf("replacement %+v", again)
		}
		list := must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))
		equal(t, "by shortcut", shortcuts(list), []string{"2fa", "greeting", "refund-sent"})
		if list[2] != again {
			t.Errorf("listed %+v, want the replacement %+v", list[2], again)
		}
	})

	t.Run("refused", func(t *testing.T) {
		before := must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))
		for _, tt := range []struct {
			name string
			c    crm.CannedResponse
			want error
		}{
			{"no shortcut", crm.CannedResponse{Text: "x"}, crm.ErrInvalid},
			{"upper-case shortcut", crm.CannedResponse{Shortcut: "Refund", Text: "x"}, crm.ErrInvalid},
			{"space in the shortcut", crm.CannedResponse{Shortcut: "refund sent", Text: "x"}, crm.ErrInvalid},
			{"slash in the shortcut", crm.CannedResponse{Shortcut: "/refund", Text: "x"}, crm.ErrInvalid},
			{"shortcut of 65 characters", crm.CannedResponse{Shortcut: strings.Repeat("a", 65), Text: "x"}, crm.ErrInvalid},
			{"no text", crm.CannedResponse{Shortcut: "greeting"}, crm.ErrInvalid},
			{"blank text", crm.CannedResponse{Shortcut: "greeting", Text: " \n"}, crm.ErrInvalid},
			{"text over the limit", crm.CannedResponse{Shortcut: "greeting", Text: strings.Repeat("x", crm.MaxCannedText+1)}, crm.ErrTooLarge},
			{"text not UTF-8", crm.CannedResponse{Shortcut: "greeting", Text: "caf\xe9"}, crm.ErrInvalid},
			{"title not UTF-8", crm.CannedResponse{Shortcut: "greeting", Title: "caf\xe9", Text: "x"}, crm.ErrInvalid},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := st.PutCanned(ctx, tt.c)
				wantErr(t, "put", err, tt.want)
				after := must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))
				equal(t, "after a refused put", after, before)
			})
		}
	})

	t.Run("deleted", func(t *testing.T) {
		if err := st.DeleteCanned(ctx, "greeting"); err != nil {
			t.Fatal(err)
		}
		equal(t, "by shortcut", shortcuts(must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))), []string{"2fa", "refund-sent"})
		wantErr(t, "second delete", st.DeleteCanned(ctx, "greeting"), crm.ErrNotFound)
		wantErr(t, "delete of an unknown shortcut", st.DeleteCanned(ctx, "nothing-here"), crm.ErrNotFound)
		must[crm.CannedResponse](t)(st.PutCanned(ctx, crm.CannedResponse{Shortcut: "greeting", Text: "Hi again"}))
		equal(t, "put again", shortcuts(must[[]crm.CannedResponse](t)(st.CannedResponses(ctx))), []string{"2fa", "greeting", "refund-sent"})
	})
}
