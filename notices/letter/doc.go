// Package letter owns the paper notice: a Message laid out as an A4 PDF
// letter in large type (14 pt), the French postal address block placed for
// a window envelope, the deployment's letterhead, the date and the
// reference; Batch puts several letters in one PDF for a print-and-post
// service, and Folder is the notices.Sender that writes one PDF per notice.
//
// It imports notices and mandates (for the Address) and nothing of ui,
// authz, authn or the stores. fpdf and the Go fonts stay inside it: the
// outbox sees a notices.Sender, the print command Render and Batch. It
// exists apart from notices so that the PDF library is linked only where
// letters are made.
package letter
