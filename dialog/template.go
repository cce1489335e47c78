package dialog

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
)

// vars are the values a response template is filled from.
type vars map[string]string

// render fills {placeholders}; one without a value becomes empty, and the
// spaces it leaves are tidied.
func render(tmpl string, v vars) string {
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string { return v[m[1:len(m)-1]] })
	out = strings.Join(strings.Fields(out), " ")
	return strings.NewReplacer(" ,", ",", " .", ".", " !", "!", " ?", "?").Replace(out)
}

// pick chooses a variant: n rotates through them so that a repeated answer
// is worded differently, deterministically.
func pick(variants []string, n uint64) string {
	if len(variants) == 0 {
		return ""
	}
	return variants[n%uint64(len(variants))]
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (v vars) customer(c *crm.Customer) {
	if c == nil {
		return
	}
	v["name"] = c.Name
	v["first_name"] = firstName(c.Name)
}

func (v vars) order(o *crm.Order, now time.Time) {
	if o == nil {
		return
	}
	v["order.id"] = o.ID
	v["order.status"] = string(o.Status)
	v["order.carrier"] = o.Carrier
	v["order.tracking"] = o.Tracking
	v["order.placed"] = relativeDay(o.PlacedAt, now)
	v["order.shipped"] = relativeDay(o.ShippedAt, now)
	v["order.delivered"] = relativeDay(o.DeliveredAt, now)
	v["order.total"] = money(o.TotalCents, o.Currency)
	var items []string
	for _, it := range o.Items {
		if it.Qty > 1 {
			items = append(items, fmt.Sprintf("%d x %s", it.Qty, it.Name))
		} else {
			items = append(items, it.Name)
		}
	}
	v["order.items"] = strings.Join(items, ", ")
}

// orders sets {orders}: "1042 (shipped yesterday), 1038 (delivered on 2
// March)", each order with its status and the day of it.
func (v vars) orders(os []crm.Order, now time.Time) {
	var parts []string
	for _, o := range os {
		day := relativeDay(o.PlacedAt, now)
		switch o.Status {
		case crm.OrderShipped:
			day = relativeDay(o.ShippedAt, now)
		case crm.OrderDelivered:
			day = relativeDay(o.DeliveredAt, now)
		}
		if day == "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", o.ID, o.Status))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s %s)", o.ID, o.Status, day))
		}
	}
	v["orders"] = strings.Join(parts, ", ")
}

func (v vars) ticket(t *crm.Ticket) {
	if t == nil {
		return
	}
	v["ticket.id"] = t.ID
	v["ticket.subject"] = t.Subject
	v["ticket.status"] = string(t.Status)
}

// relativeDay says when t was as a person would, seen from now: "today",
// "yesterday", "on Monday" within a week, else "on 2 January".
func relativeDay(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	days := int(time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days == 0:
		return "today"
	case days == 1:
		return "yesterday"
	case days > 1 && days < 7:
		return "on " + t.Weekday().String()
	case y1 == y2:
		return "on " + t.Format("2 January")
	default:
		return "on " + t.Format("2 January 2006")
	}
}

func money(cents int64, currency string) string {
	if currency == "" {
		currency = "EUR"
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}
