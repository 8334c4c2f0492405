package ui

import "github.com/gorilla/mux"

func (s *Server) mountOrganisation(pages *mux.Router) {}
