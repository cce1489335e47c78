package dialog

import (
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name, tmpl string
		v          vars
		want       string
	}{
		{"filled", "Hi {first_name}, order {order.id} is {order.status}.", vars{"first_name": "Ana", "order.id": "1042", "order.status": "shipped"}, "Hi Ana, order 1042 is shipped."},
		{"missing value tidied", "Hi {first_name}, welcome back!", vars{}, "Hi, welcome back!"},
		{"no placeholders", "Hello!", nil, "Hello!"},
		{"braces in a value are not expanded", "You said {value}.", vars{"value": "{first_name}"}, "You said {first_name}."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(tt.tmpl, tt.v); got != tt.want {
				t.Errorf("render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRelativeDay(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC) // a Tuesday
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero", time.Time{}, ""},
		{"earlier today", now.Add(-9 * time.Hour), "today"},
		{"late yesterday", time.Date(2026, 3, 9, 23, 59, 0, 0, time.UTC), "yesterday"},
		{"this week", now.AddDate(0, 0, -4), "on Friday"},
		{"this year", now.AddDate(0, 0, -30), "on 8 February"},
		{"last year", now.AddDate(-1, 0, 0), "on 10 March 2025"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relativeDay(tt.t, now); got != tt.want {
				t.Errorf("relativeDay = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		cents int64
		cur   string
		want  string
	}{{11900, "EUR", "119.00 EUR"}, {5, "", "0.05 EUR"}, {-250, "CHF", "-2.50 CHF"}} {
		if got := money(tt.cents, tt.cur); got != tt.want {
			t.Errorf("money(%d, %q) = %q, want %q", tt.cents, tt.cur, got, tt.want)
		}
	}
}
