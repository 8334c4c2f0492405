package words

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Mask is an email address or a phone number in a form that lets its
// owner recognise it and nobody else use it: the first letter and the
// domain of an email (« j•••@example.fr »), the first two and the last two
// digits of a French phone (« 06 •• •• •• 78 »), the country code and the
// last two digits of another (« +32 ••• 56 »). It is "" for another
// channel or for something that is not an address or a number.
func Mask(c notices.Channel, s string) string {
	s = strings.TrimSpace(s)
	switch c {
	case notices.Email:
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t") {
			return ""
		}
		first, _ := utf8.DecodeRuneInString(s)
		return string(first) + "•••" + s[at:]
	case notices.SMS:
		var d strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				d.WriteRune(r)
			}
		}
		digits := d.String()
		if strings.HasPrefix(s, "+33") && len(digits) == 11 {
			digits, s = "0"+digits[2:], digits
		}
		switch {
		case len(digits) == 10 && digits[0] == '0':
			return digits[:2] + " •• •• •• " + digits[8:]
		case strings.HasPrefix(s, "+") && len(digits) >= 6:
			return "+" + digits[:2] + " ••• " + digits[len(digits)-2:]
		}
	}
	return ""
}

// destination is, for the letter that tells a new channel
// (notice.channel_confirmed), where the letters now go, masked: the
// address or number the recipient confirmed for that channel, as the
// Contacts give it when the letter is written.
func (w *Writer) destination(ctx context.Context, n notices.Notice) (string, error) {
	if n.Kind != mandates.EventNoticeChannelConfirmed || n.RecipientKind != notices.ToPerson {
		return "", nil
	}
	c, err := w.o.Contacts.Contact(ctx, n.RecipientID)
	if err != nil {
		return "", err
	}
	switch ch := notices.Channel(n.Data["channel"]); ch {
	case notices.Email:
		return Mask(ch, c.Email), nil
	case notices.SMS:
		return Mask(ch, c.Phone), nil
	}
	return "", nil
}
