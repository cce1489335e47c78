package tokenize

import (
	"fmt"
	"os"
	"path/filepath"
)

func ExampleTokenizer_Encode() {
	data, err := Build([]string{"I want a refund, please!", "Refunds are slow.", "Please cancel my order."}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "tokenizer")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Println(err)
		return
	}
	tk, err := Load(path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := tk.Encode("Crème brûlée: refund please")
	fmt.Println(enc.Tokens)
	for _, w := range enc.Words {
		fmt.Printf("%s [%d,%d) ", w.Text, w.Start, w.End)
	}
	fmt.Println()
	// Output:
	// [c ##r ##e ##m ##e [UNK] [UNK] refund please]
	// creme [0,5) brulee [6,12) : [12,13) refund [14,20) please [21,27)
}
