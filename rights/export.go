package rights

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"veil/classification"
	"veil/crypt"
	"veil/ent"
	"veil/ledger"
)

// ExportFormat names the export document's format and version.
const ExportFormat = "veil-export/1"

// exportColumns returns, for one class, each type's columns of that class
// that the export includes, types sorted.
func exportColumns(c *classification.Class) (types []string, columns map[string][]string) {
	columns = map[string][]string{}
	for typ, fields := range ent.Fields {
		if ent.Records[typ].SubjectColumn() == "" {
			continue
		}
		for _, f := range fields {
			// The ID is every record's own, not a field of a class.
			if f != "id" && ent.Classes[typ][f] == c.Name {
				columns[typ] = append(columns[typ], f)
			}
		}
	}
	for typ := range columns {
		types = append(types, typ)
	}
	sort.Strings(types)
	return types, columns
}

// Export writes subjectID's export document to w, as it reads it: one JSON
// object with every exportable field of every record about the subject,
// grouped by class, then the SDK inventory. Government ID numbers are raw:
// it is the subject's own data. Rows stream from the database to w, so
// memory stays flat however long the activity history is.
func Export(ctx context.Context, c *ent.Client, drv dialect.Driver, subjectID int, w io.Writer, now time.Time) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	pv, err := ledger.Current(ctx, c)
	if err != nil {
		return err
	}
	header, _ := json.Marshal(map[string]any{
		"format": ExportFormat, "generatedAt": now.Format(time.RFC3339), "subjectId": subjectID, "policyVersion": pv.Version,
	})
	bw.Write(header[:len(header)-1])
	bw.WriteString(`,"classes":`)
	if err := WriteClasses(ctx, drv, bw, subjectID, ExportedClasses()); err != nil {
		return err
	}
	bw.WriteString(`,"sdks":`)
	sdks, err := c.ThirdPartySDK.Query().Order(ent.Asc("id")).All(ctx)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(bw).Encode(sdks); err != nil {
		return err
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// ExportedClasses are the classes a subject's export holds, in registry
// order.
func ExportedClasses() []*classification.Class {
	var out []*classification.Class
	for _, cl := range classification.All {
		if cl.Exported && cl.Level != classification.Secret {
			out = append(out, cl)
		}
	}
	return out
}

// WriteClasses writes to w one JSON object with, for each of classes that
// some record holds, every field of that class of every record about
// subjectID, as the export document's "classes" member: class name ->
// [{"type":..,"id":..,"fields":{..}}]. Encrypted values are opened.
func WriteClasses(ctx context.Context, drv dialect.Driver, w *bufio.Writer, subjectID int, classes []*classification.Class) error {
	w.WriteByte('{')
	firstClass := true
	for _, cl := range classes {
		types, columns := exportColumns(cl)
		if len(types) == 0 {
			continue
		}
		if !firstClass {
			w.WriteByte(',')
		}
		firstClass = false
		name, _ := json.Marshal(cl.Name)
		w.Write(name)
		w.WriteString(`:[`)
		first := true
		for _, typ := range types {
			if err := exportRows(ctx, drv, w, typ, columns[typ], subjectID, &first); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	}
	w.WriteByte('}')
	return nil
}

// exportRows streams the rows of typ about subjectID as
// {"type":..,"id":..,"fields":{..}} objects.
func exportRows(ctx context.Context, drv dialect.Driver, w *bufio.Writer, typ string, columns []string, subjectID int, first *bool) error {
	table := ent.Tables[typ]
	cols := append([]string{"id"}, columns...)
	query, args := entsql.Dialect(drv.Dialect()).
		Select(cols...).From(entsql.Table(table)).
		Where(entsql.EQ(ent.Records[typ].SubjectColumn(), subjectID)).
		OrderBy("id").Query()
	rows := &entsql.Rows{}
	if err := drv.Query(ctx, query, args, rows); err != nil {
		return fmt.Errorf("export %s: %w", table, err)
	}
	defer rows.Close()
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	enc := json.NewEncoder(w)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fields := make(map[string]any, len(columns))
		for i, col := range columns {
			v, err := exportValue(table, typ, col, values[0], values[i+1])
			if err != nil {
				return err
			}
			fields[col] = v
		}
		if !*first {
			w.WriteByte(',')
		}
		*first = false
		if err := enc.Encode(map[string]any{"type": typ, "id": values[0], "fields": fields}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportValue turns a scanned column into its JSON form: encrypted values
// are opened (the export is the subject's own data, in the clear), JSON
// columns stay JSON, bytes become text, the rest as the driver gives it.
func exportValue(table, typ, col string, id, v any) (any, error) {
	if b, ok := v.([]byte); ok {
		if ent.JSONFields[typ][col] && json.Valid(b) {
			return json.RawMessage(slices.Clone(b)), nil
		}
		v = string(b)
	}
	s, ok := v.(string)
	switch {
	case ok && ent.EncryptedColumns[table][col] != "":
		k := crypt.Active()
		if k == nil {
			return nil, crypt.ErrNoKeyring
		}
		row, ok := id.(int64)
		if !ok {
			return nil, fmt.Errorf("export %s: an ID scanned as %T", table, id)
		}
		plain, err := k.Open(table+"."+col, row, s)
		if err != nil {
			return nil, fmt.Errorf("export %s.%s of row %d: %w", table, col, row, err)
		}
		if ent.EncryptedColumns[table][col] != "float64" {
			return plain, nil
		}
		f, err := strconv.ParseFloat(plain, 64)
		if err != nil {
			// strconv's error quotes the value.
			return nil, fmt.Errorf("export %s.%s of row %d: not a number", table, col, row)
		}
		return f, nil
	case ok && ent.JSONFields[typ][col] && json.Valid([]byte(s)):
		return json.RawMessage(s), nil
	}
	return v, nil
}

// Document is an export document as one JSON value, for exportMyData.
type Document json.RawMessage

// MarshalGQL writes the document as it is.
func (d Document) MarshalGQL(w io.Writer) { w.Write(d) }

// UnmarshalGQL refuses: documents are never input.
func (d *Document) UnmarshalGQL(any) error {
	return fmt.Errorf("ExportDocument is output only")
}
