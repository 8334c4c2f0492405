package ui

import "github.com/gorilla/mux"

func (s *Server) mountOperator(pages *mux.Router) {}
