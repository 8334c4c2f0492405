package plainwords

// The limits of the rule book (PLAIN-LANGUAGE.md, "Checking").
const (
	// MaxWords is the most words a sentence may have.
	MaxWords = 20
	// MaxAverage is the average number of words per sentence a page must
	// stay under.
	MaxAverage = 15.0
)
