package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/email"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/sms"
)

// NoticeConfig is who the notices come from and how email and SMS go out
// (docs/notices.md, « Configuration in relais serve »). Without SMTP or
// an SMS gateway, serve sends neither: every notice is a letter.
type NoticeConfig struct {
	From    string // --notice-from, RELAIS_NOTICE_FROM: the name letters, emails and texts come from
	Address string // --notice-address, RELAIS_NOTICE_ADDRESS: where people write back, lines separated by « ; »
	Phone   string // --notice-phone, RELAIS_NOTICE_PHONE: the number people call

	SMTPHost         string // --smtp-host, RELAIS_SMTP_HOST: empty sends no email
	SMTPPort         int    // --smtp-port, RELAIS_SMTP_PORT
	SMTPUser         string // --smtp-user, RELAIS_SMTP_USER
	SMTPPassword     string // --smtp-password, RELAIS_SMTP_PASSWORD (prefer the variable or the file)
	SMTPPasswordFile string // --smtp-password-file, RELAIS_SMTP_PASSWORD_FILE
	SMTPFrom         string // --smtp-from, RELAIS_SMTP_FROM: "Name <address>"
	SMTPCAFile       string // --smtp-ca-file, RELAIS_SMTP_CA_FILE: a private relay's CA, PEM

	SMSURL          string // --sms-url, RELAIS_SMS_URL: empty sends no SMS
	SMSToken        string // --sms-token, RELAIS_SMS_TOKEN: a bearer token (prefer the variable or the file)
	SMSTokenFile    string // --sms-token-file, RELAIS_SMS_TOKEN_FILE
	SMSUser         string // --sms-user, RELAIS_SMS_USER: basic authentication, instead of a token
	SMSPassword     string // --sms-password, RELAIS_SMS_PASSWORD
	SMSPasswordFile string // --sms-password-file, RELAIS_SMS_PASSWORD_FILE
	SMSFieldTo      string // --sms-field-to, RELAIS_SMS_FIELD_TO: the JSON body's field names
	SMSFieldText    string // --sms-field-text, RELAIS_SMS_FIELD_TEXT
	SMSFieldSender  string // --sms-field-sender, RELAIS_SMS_FIELD_SENDER
	SMSSender       string // --sms-sender, RELAIS_SMS_SENDER: the sender name shown on the phone
	SMSExtra        string // --sms-extra, RELAIS_SMS_EXTRA: a JSON object of constant fields
	SMSMaxParts     int    // --sms-max-parts, RELAIS_SMS_MAX_PARTS

	// Lease and Interval pace serve's dispatcher (notices.Dispatcher): how
	// long a claim holds a notice, so how soon another instance (or this
	// one, restarted) sends what a stopped one had claimed; and how often
	// it looks for notices when the outbox was empty.
	Lease    time.Duration // --notice-lease, RELAIS_NOTICE_LEASE, default 5m
	Interval time.Duration // --notice-interval, RELAIS_NOTICE_INTERVAL, default 10s

	// senders are the channels built from the settings, by validate.
	senders map[notices.Channel]notices.Sender
}

// minNoticeLease is the shortest --notice-lease: twice the margin a
// dispatcher keeps to record an outcome.
const minNoticeLease = 2 * notices.LeaseMargin

func bindNoticeFlags(fs *pflag.FlagSet, c *NoticeConfig) {
	fs.StringVar(&c.From, "notice-from", "", "the name notices come from, at the top of letters and in emails, e.g. \"France Services Nantes\"")
	fs.StringVar(&c.Address, "notice-address", "", "the postal address people write to, lines separated by ;, e.g. \"4 rue de la Maison Neuve; 44000 Nantes\"")
	fs.StringVar(&c.Phone, "notice-phone", "", "the phone number people call about a notice, e.g. \"02 40 41 42 43\"")
	fs.StringVar(&c.SMTPHost, "smtp-host", "", "SMTP relay for email notices (STARTTLS and authentication required); empty: no email")
	fs.IntVar(&c.SMTPPort, "smtp-port", 587, "SMTP relay's port")
	fs.StringVar(&c.SMTPUser, "smtp-user", "", "SMTP user name")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password (prefer RELAIS_SMTP_PASSWORD or --smtp-password-file: a flag shows in the process list)")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", "", "file holding the SMTP password")
	fs.StringVar(&c.SMTPFrom, "smtp-from", "", "sender of email notices, e.g. \"France Services Nantes <courrier@relais.example.fr>\"")
	fs.StringVar(&c.SMTPCAFile, "smtp-ca-file", "", "PEM file of the CA that signed a private SMTP relay's certificate; empty: the system's")
	fs.StringVar(&c.SMSURL, "sms-url", "", "HTTPS URL of the SMS gateway (one JSON POST per text); empty: no SMS")
	fs.StringVar(&c.SMSToken, "sms-token", "", "SMS gateway bearer token (prefer RELAIS_SMS_TOKEN or --sms-token-file)")
	fs.StringVar(&c.SMSTokenFile, "sms-token-file", "", "file holding the SMS gateway bearer token")
	fs.StringVar(&c.SMSUser, "sms-user", "", "SMS gateway user name, for basic authentication instead of a token")
	fs.StringVar(&c.SMSPassword, "sms-password", "", "SMS gateway password (prefer RELAIS_SMS_PASSWORD or --sms-password-file)")
	fs.StringVar(&c.SMSPasswordFile, "sms-password-file", "", "file holding the SMS gateway password")
	fs.StringVar(&c.SMSFieldTo, "sms-field-to", "to", "name of the JSON field holding the phone number")
	fs.StringVar(&c.SMSFieldText, "sms-field-text", "text", "name of the JSON field holding the text")
	fs.StringVar(&c.SMSFieldSender, "sms-field-sender", "sender", "name of the JSON field holding the sender name")
	fs.StringVar(&c.SMSSender, "sms-sender", "", "sender name shown on the phone, as registered with the gateway; empty: the gateway's")
	fs.StringVar(&c.SMSExtra, "sms-extra", "", "JSON object of fields added to every body, e.g. {\"type\":\"transactional\"}")
	fs.IntVar(&c.SMSMaxParts, "sms-max-parts", sms.DefaultSegments, "most parts a text may take (160 GSM characters or 70 others each; 1 if the gateway does not join texts)")
	fs.DurationVar(&c.Lease, "notice-lease", 5*time.Minute, "how long a claim holds an email or SMS notice: an instance that stops while sending leaves it to others for that long")
	fs.DurationVar(&c.Interval, "notice-interval", 10*time.Second, "how often to look for email and SMS notices to send when there were none")
}

// secret is a setting given inline (a variable, or a flag) or in a file,
// not both. A file's last line break is not part of the secret.
func secret(name, inline, file string) (string, error) {
	switch {
	case inline != "" && file != "":
		return "", settingErr("--%s and --%s-file (%s, %s) are both set; keep one.", name, name, envName(name), envName(name+"-file"))
	case file == "":
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", settingErr("--%s-file %s (%s) cannot be read (%s); check the path and its permissions.", name, file, envName(name+"-file"), shortCause(err))
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// letterhead is who the notices come from, as letters print it.
func (c *NoticeConfig) letterhead() letter.Letterhead {
	var lines []string
	for _, l := range strings.Split(c.Address, ";") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return letter.Letterhead{Name: strings.TrimSpace(c.From), Address: lines, Phone: strings.TrimSpace(c.Phone)}
}

// contact is how people reach someone about a notice: the phone, or the
// address when there is no phone.
func (c *NoticeConfig) contact() string {
	h := c.letterhead()
	if h.Phone != "" {
		return h.Phone
	}
	return strings.Join(h.Address, ", ")
}

// configured says whether any notice setting is given.
func (c *NoticeConfig) configured() bool {
	return c.From != "" || c.Address != "" || c.Phone != "" || c.SMTPHost != "" || c.SMSURL != ""
}

// validatePace checks serve's dispatcher's pace. A send is bounded by the
// lease less notices.LeaseMargin; below minNoticeLease there is hardly
// time to send.
func (c *NoticeConfig) validatePace() error {
	if c.Lease < minNoticeLease {
		return settingErr("--notice-lease %s (RELAIS_NOTICE_LEASE) must be at least %s: a claim must outlast a send and the %s kept to record it; 5m is usual.", c.Lease, minNoticeLease, notices.LeaseMargin)
	}
	if c.Interval < time.Second {
		return settingErr("--notice-interval %s (RELAIS_NOTICE_INTERVAL) must be at least 1s; 10s is usual.", c.Interval)
	}
	return nil
}

// validate checks the notice settings and builds the email and SMS
// senders, so that a setting that cannot work stops serve at start.
func (c *NoticeConfig) validate() error {
	c.senders = map[notices.Channel]notices.Sender{}
	if c.configured() {
		if _, err := letter.NewPrinter(c.letterhead()); err != nil {
			return settingErr("--notice-from, --notice-address and --notice-phone (RELAIS_NOTICE_FROM, RELAIS_NOTICE_ADDRESS, RELAIS_NOTICE_PHONE) must all be set, each line at most half a page wide; for example --notice-from \"France Services Nantes\" --notice-address \"4 rue de la Maison Neuve; 44000 Nantes\" --notice-phone \"02 40 41 42 43\".")
		}
	}
	if c.SMTPHost != "" {
		s, err := c.emailSender()
		if err != nil {
			return err
		}
		c.senders[notices.Email] = s
	} else if c.SMTPUser != "" || c.SMTPPassword != "" || c.SMTPPasswordFile != "" || c.SMTPFrom != "" || c.SMTPCAFile != "" {
		return settingErr("--smtp-host (RELAIS_SMTP_HOST) is not set, but other SMTP settings are; set it to the relay's name, or remove the SMTP settings.")
	}
	if c.SMSURL != "" {
		s, err := c.smsSender()
		if err != nil {
			return err
		}
		c.senders[notices.SMS] = s
	} else if c.SMSToken != "" || c.SMSTokenFile != "" || c.SMSUser != "" || c.SMSPassword != "" || c.SMSPasswordFile != "" || c.SMSExtra != "" {
		return settingErr("--sms-url (RELAIS_SMS_URL) is not set, but other SMS settings are; set it to the gateway's URL, or remove the SMS settings.")
	}
	return nil
}

func (c *NoticeConfig) emailSender() (notices.Sender, error) {
	password, err := secret("smtp-password", c.SMTPPassword, c.SMTPPasswordFile)
	if err != nil {
		return nil, err
	}
	if c.SMTPUser == "" || password == "" {
		return nil, settingErr("--smtp-user and --smtp-password (RELAIS_SMTP_USER, RELAIS_SMTP_PASSWORD or --smtp-password-file) are required: Relais sends email only with authentication.")
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		return nil, settingErr("--smtp-port (RELAIS_SMTP_PORT) must be from 1 to 65535; 587 is the submission port.")
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil || !strings.Contains(c.SMTPFrom, "@") {
		return nil, settingErr("--smtp-from %q (RELAIS_SMTP_FROM) is not an email address; write for example \"France Services Nantes <courrier@relais.example.fr>\".", c.SMTPFrom)
	}
	cfg := email.Config{Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUser, Password: password, From: c.SMTPFrom}
	if c.SMTPCAFile != "" {
		pem, err := os.ReadFile(c.SMTPCAFile)
		if err != nil {
			return nil, settingErr("--smtp-ca-file %s (RELAIS_SMTP_CA_FILE) cannot be read (%s); check the path.", c.SMTPCAFile, shortCause(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, settingErr("--smtp-ca-file %s (RELAIS_SMTP_CA_FILE) holds no PEM certificate; give the relay's CA certificate.", c.SMTPCAFile)
		}
		cfg.TLS = &tls.Config{RootCAs: pool, ServerName: c.SMTPHost, MinVersion: tls.VersionTLS12}
	}
	s, err := email.New(cfg)
	if errors.Is(err, email.ErrConfig) {
		return nil, settingErr("the SMTP settings (--smtp-*) cannot work (%v); fix them.", err)
	}
	return s, err
}

func (c *NoticeConfig) smsSender() (notices.Sender, error) {
	token, err := secret("sms-token", c.SMSToken, c.SMSTokenFile)
	if err != nil {
		return nil, err
	}
	password, err := secret("sms-password", c.SMSPassword, c.SMSPasswordFile)
	if err != nil {
		return nil, err
	}
	cfg := sms.HTTPConfig{URL: c.SMSURL, Token: token, Username: c.SMSUser, Password: password, Sender: c.SMSSender,
		Fields: sms.Fields{To: c.SMSFieldTo, Text: c.SMSFieldText, Sender: c.SMSFieldSender}}
	if c.SMSExtra != "" {
		if err := json.Unmarshal([]byte(c.SMSExtra), &cfg.Extra); err != nil || cfg.Extra == nil {
			return nil, settingErr("--sms-extra (RELAIS_SMS_EXTRA) is not a JSON object; write for example {\"type\":\"transactional\"}.")
		}
	}
	switch {
	case (token == "") == (c.SMSUser == ""):
		return nil, settingErr("the SMS gateway needs either --sms-token (RELAIS_SMS_TOKEN or --sms-token-file) or --sms-user with --sms-password, not both and not neither.")
	case c.SMSUser != "" && password == "":
		return nil, settingErr("--sms-password (RELAIS_SMS_PASSWORD or --sms-password-file) is not set; the gateway's user %s needs it.", c.SMSUser)
	case c.SMSMaxParts < 1:
		return nil, settingErr("--sms-max-parts (RELAIS_SMS_MAX_PARTS) must be 1 or more; %d is the usual value.", sms.DefaultSegments)
	}
	gw, err := sms.NewHTTP(cfg)
	if errors.Is(err, sms.ErrConfig) {
		return nil, settingErr("the SMS gateway settings (--sms-*) cannot work (%v); fix them, for example --sms-url https://sms.example.fr/send.", err)
	}
	if err != nil {
		return nil, err
	}
	return sms.New(gw, c.SMSMaxParts)
}
