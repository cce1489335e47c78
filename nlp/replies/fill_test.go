package replies

import (
	"testing"

	"github.com/parleyhq/parley/nlp/suggest"
)

func TestFillDraft(t *testing.T) {
	v := suggest.Vars{CustomerName: "Maria", OrderID: "A-1042", AgentName: "Sam"}
	tests := []struct {
		name, in, want string
		vars           suggest.Vars
	}{
		{"order number", "Your order {{Order Number}} ships today.", "Your order A-1042 ships today.", v},
		{"anonymized purchase id", "Purchase {{Purchase ID Anonymized}} is cancelled.", "Purchase A-1042 is cancelled.", v},
		{"client name", "Hi {{Client First Name}}, I'm {{Agent Name}}.", "Hi Maria, I'm Sam.", v},
		{"parley variables", "Hi {{customer.name}}, order {{order.id}}.", "Hi Maria, order A-1042.", v},
		{"unknown stays", "Call {{Customer Support Phone Number}} or use {{Live Chat}}.", "Call {{Customer Support Phone Number}} or use {{Live Chat}}.", v},
		{"no order known", "Order {{Order Number}}.", "Order {{Order Number}}.", suggest.Vars{CustomerName: "Maria"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FillDraft(tt.in, tt.vars); got != tt.want {
				t.Errorf("FillDraft(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
